"""The Restricted Boltzmann Machine: two layers and their weights.

E(v, h) = U_v(v) + U_h(h) - v^T W h.  The RBM forms the inputs each layer
receives from the other (I_h = v W, I_v = W h) and delegates energies,
moments and sampling to the layers; the fused Gibbs sweep and the free
energy run in the C kernels.  With a Potts visible layer the weights have
shape (n_sites, q, n_hidden), v stands for its one-hot form, and the
kernels gather rows of W by category index instead of multiplying by it.
"""
from __future__ import annotations

import numpy as np

from rbmfast._kernels import _gibbs, _gradient, _potts
from rbmfast._threads import resolve_threads, single_threaded_blas
from rbmfast.layers import Layer, Potts
from rbmfast.layers.base import as_batch

__all__ = ["RBM"]


class RBM:
    """A Restricted Boltzmann Machine.

    Parameters
    ----------
    visible, hidden : rbmfast.layers.Layer
        Layers of the same dtype.
    weights : array_like, shape (n_visible, n_hidden), optional
        Interaction weights; zeros by default.  For a Potts visible layer,
        shape (n_sites, q, n_hidden).
    """

    def __init__(self, visible, hidden, weights=None):
        if not isinstance(visible, Layer) or not isinstance(hidden, Layer):
            raise TypeError("visible and hidden must be rbmfast.layers.Layer objects")
        if visible.dtype != hidden.dtype:
            raise TypeError(
                f"visible ({visible.dtype}) and hidden ({hidden.dtype}) layers "
                "must have the same dtype"
            )
        if isinstance(hidden, Potts):
            raise TypeError("Potts layers are visible layers only; choose binary, "
                            "spin, gaussian, relu or drelu hidden units")
        self.visible = visible
        self.hidden = hidden
        shape = visible.weight_shape(hidden.n)
        if weights is None:
            weights = np.zeros(shape)
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != shape:
            raise ValueError(f"weights must have shape {shape}, got {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("weights contain non-finite values")
        self.weights = np.ascontiguousarray(w, dtype=visible.dtype)

    @property
    def dtype(self):
        """Floating type of every parameter and batch."""
        return self.visible.dtype

    @property
    def n_visible(self):
        return self.visible.n

    @property
    def is_potts(self):
        """True when the visible layer is Potts (category-index states)."""
        return isinstance(self.visible, Potts)

    @property
    def flat_weights(self):
        """The weights as a (n_visible q, n_hidden) view (itself if dense)."""
        return self.weights.reshape(-1, self.n_hidden)

    @property
    def n_hidden(self):
        return self.hidden.n

    def __repr__(self):
        return f"RBM(visible={self.visible!r}, hidden={self.hidden!r})"

    def copy(self):
        """Return a deep copy."""
        return RBM(self.visible.copy(), self.hidden.copy(), self.weights.copy())

    def astype(self, dtype):
        """Return a copy with every parameter cast to `dtype`."""
        return RBM(self.visible.astype(dtype), self.hidden.astype(dtype),
                   self.weights.astype(dtype))

    # -- inputs -----------------------------------------------------------
    def inputs_h_from_v(self, v):
        """Return I_h = v W, shape (n_samples, n_hidden)."""
        v = self.visible.check_states(v, "visible states")
        if not self.is_potts:
            return v @ self.weights
        out = np.empty((v.shape[0], self.n_hidden), dtype=self.dtype)
        _potts.inputs_h(self.visible.theta, self.flat_weights, v, out)
        return out

    def inputs_v_from_h(self, h):
        """Return I_v = h W^T, shape (n_samples, n_visible); (n_samples, n q)
        for Potts."""
        h = self.hidden.check_states(h, "hidden states")
        return h @ self.flat_weights.T

    # -- conditional distributions -----------------------------------------
    def mean_h_from_v(self, v, n_threads=None):
        """Return E[h | v], shape (n_samples, n_hidden)."""
        return self.hidden.mean(self.inputs_h_from_v(v), n_threads)

    def mean_v_from_h(self, h, n_threads=None):
        """Return E[v | h], shape (n_samples, n_visible)."""
        return self.visible.mean(self.inputs_v_from_h(h), n_threads)

    def sample_h_from_v(self, v, stream, n_threads=None):
        """Sample h ~ p(h | v), advancing `stream` by one call."""
        return self.hidden.sample(self.inputs_h_from_v(v), stream, n_threads)

    def sample_v_from_h(self, h, stream, n_threads=None):
        """Sample v ~ p(v | h), advancing `stream` by one call."""
        return self.visible.sample(self.inputs_v_from_h(h), stream, n_threads)

    # -- energies ---------------------------------------------------------
    def energy(self, v, h):
        """Return E(v, h) = U_v(v) + U_h(h) - v^T W h, shape (n_samples,)."""
        v = self.visible.check_states(v, "visible states")
        h = self.hidden.check_states(h, "hidden states")
        if v.shape[0] != h.shape[0]:
            raise ValueError(f"v has {v.shape[0]} samples but h has {h.shape[0]}")
        if self.is_potts:
            inputs = self.inputs_h_from_v(v).astype(np.float64)
            coupling = np.einsum("bj,bj->b", inputs, h)
        else:
            coupling = np.einsum("bi,ij,bj->b", v.astype(np.float64), self.weights, h)
        return self.visible.energy(v) + self.hidden.energy(h) - coupling

    def free_energy(self, v, n_threads=None):
        """Return F(v) = U_v(v) - sum_mu Gamma_mu(I_mu(v)), shape (n_samples,).

        p(v) = exp(-F(v)) / Z; float64 output, accumulated in float64.
        """
        v = self.visible.check_states(v, "visible states")
        out = np.empty(v.shape[0])
        scratch = np.empty((v.shape[0], self.n_hidden), dtype=self.dtype)
        if self.is_potts:
            _potts.free_energy(self.visible.theta, self.hidden.kind,
                               self.hidden.params(), self.flat_weights, v, scratch,
                               out, resolve_threads(n_threads))
            return out
        with single_threaded_blas():
            _gradient.free_energy(self.visible.kind, self.visible.params(),
                                  self.hidden.kind, self.hidden.params(),
                                  self.weights, v, scratch, out,
                                  resolve_threads(n_threads))
        return out

    # -- sampling ---------------------------------------------------------
    def gibbs(self, v, stream, n_steps=1, clamp=None, n_threads=None, row0=0,
              check=True):
        """Run block-Gibbs sweeps h ~ p(h | v), v ~ p(v | h) from `v`.

        Parameters
        ----------
        v : ndarray, shape (n_chains, n_visible)
            Starting visible states; not modified.
        stream : rbmfast.random.Stream
            Advanced by 2 * n_steps calls.
        n_steps : int
            Number of sweeps.
        clamp : tuple (units, values), optional
            Hidden units held fixed after each hidden sampling step: `units`
            (C,) indices and `values` (C,) or (n_chains, C).
        row0 : int
            Stream row of chain 0 (chains of one run that are sampled in
            pieces keep their own rows this way).
        check : bool
            Validate `v`; the training loop passes False for its own chains.

        Returns
        -------
        v, h : ndarray, shapes (n_chains, n_visible) and (n_chains, n_hidden)
            The visible and hidden states after the last sweep.
        """
        if check:
            v = self.visible.check_states(v, "visible states").copy()
        else:
            v = v.copy()
        n_steps = _check_steps(n_steps)
        clamp_idx, clamp_val = self._clamp_arrays(clamp, v.shape[0])
        h = np.zeros((v.shape[0], self.n_hidden), dtype=self.dtype)
        self.gibbs_inplace(v, h, stream, n_steps, clamp_idx, clamp_val, n_threads,
                           row0)
        return v, h

    def gibbs_inplace(self, v, h, stream, n_steps, clamp_idx=None, clamp_val=None,
                      n_threads=None, row0=0, scratch=None):
        """Advance chains `v` in place (no validation); see :meth:`gibbs`."""
        if scratch is None:
            scratch = self.gibbs_scratch(v.shape[0])
        if self.is_potts:
            # an index >= q would read outside the weights in the kernel
            if v.dtype != np.uint8 or v.ndim != 2 or v.shape[1] != self.n_visible:
                raise ValueError(f"Potts chains must be a uint8 (n_chains, "
                                 f"{self.n_visible}) array, got {v.dtype} {v.shape}")
            if v.size and int(v.max()) >= self.visible.q:
                raise ValueError(f"Potts chains contain the state {int(v.max())}, "
                                 f"outside [0, {self.visible.q}); pass valid states "
                                 "or use gibbs(), which checks them")
            with single_threaded_blas():
                _potts.gibbs(self.visible.theta, self.hidden.kind, self.hidden.params(),
                             self.flat_weights, v, h, scratch[0], scratch[1], n_steps,
                             stream.key, stream.take(2 * n_steps), row0, clamp_idx,
                             clamp_val, resolve_threads(n_threads))
            return
        with single_threaded_blas():
            _gibbs.gibbs(self.visible.kind, self.visible.params(), self.hidden.kind,
                         self.hidden.params(), self.weights, v, h, scratch[0],
                         scratch[1], n_steps, stream.key, stream.take(2 * n_steps),
                         row0, clamp_idx, clamp_val, resolve_threads(n_threads))

    def gibbs_scratch(self, n_chains):
        """Return the (I_h, I_v) scratch buffers of a Gibbs run."""
        return (np.empty((n_chains, self.n_hidden), dtype=self.dtype),
                np.empty((n_chains, self.visible.n_flat), dtype=self.dtype))

    def _clamp_arrays(self, clamp, n_chains):
        if clamp is None:
            return None, None
        units, values = clamp
        idx = np.asarray(units)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"clamped units must be a 1-D integer array, got {units!r}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_hidden):
            raise ValueError(
                f"clamped units {idx.tolist()} out of range for {self.n_hidden} "
                "hidden units"
            )
        if np.unique(idx).size != idx.size:
            raise ValueError(f"clamped units {idx.tolist()} contain duplicates")
        val = np.asarray(values, dtype=np.float64)
        if val.ndim == 1:
            val = val[None, :]
        if val.ndim != 2 or val.shape[1] != idx.size or val.shape[0] not in (1, n_chains):
            raise ValueError(
                f"clamp values must have shape ({idx.size},) or ({n_chains}, "
                f"{idx.size}), got {np.shape(values)}"
            )
        if not np.isfinite(val).all():
            raise ValueError("clamp values contain non-finite values")
        minimum = self.hidden.minimum
        if minimum is not None and val.size and val.min() < minimum:
            raise ValueError(f"clamp values of {type(self.hidden).__name__} hidden "
                             f"units must be >= {minimum}, got {val.min()}")
        return (np.ascontiguousarray(idx, dtype=np.intc),
                np.ascontiguousarray(val, dtype=self.dtype))

    def sample_independent_visible(self, n_samples, stream, n_threads=None):
        """Sample visible states from the fields alone (zero inputs)."""
        zeros = np.zeros((n_samples, self.visible.n_flat), dtype=self.dtype)
        return self.visible.sample(zeros, stream, n_threads)


def _check_steps(n_steps):
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
        raise TypeError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    return int(n_steps)
