"""Potts (categorical) visible layer: n sites with q states each.

States are category indices, held as uint8 arrays of shape (n_samples, n),
never one-hot.  The fields theta have shape (n, q) and the energy of a
state is U(v) = -sum_i theta[i, v_i].  Inputs from the hidden layer have
one value per (site, state), shape (n_samples, n, q) or flattened to
(n_samples, n q), and site i takes state a with probability
softmax_a(theta[i, a] + I[i, a]).  Shifting every field (or input) of a
site by one constant leaves the conditionals unchanged; see
rbmfast.gauge for the zero-sum gauge that removes this freedom.
"""
from __future__ import annotations

import numpy as np

from rbmfast._kernels import _potts
from rbmfast._threads import resolve_threads
from rbmfast.labels import check_weights
from rbmfast.layers.base import Layer, as_batch

__all__ = ["Potts", "as_potts_states"]

#: largest number of states per site (states are stored as uint8)
MAX_STATES = 256


def as_potts_states(x, n_sites, n_states, name="states"):
    """Return `x` as a C-contiguous uint8 (n_samples, n_sites) array.

    Accepts integer arrays, or float arrays of whole numbers, with every
    value in [0, n_states).  Anything else raises ValueError naming the
    first bad value and where it is.
    """
    arr = np.asarray(x)
    if arr.ndim == 1 and arr.shape[0] == n_sites:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_sites:
        raise ValueError(f"{name} must have shape (n_samples, {n_sites}) of category "
                         f"indices, got {np.shape(x)}")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be integer category indices, got dtype "
                        f"{arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer):
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not whole.all():
            b, i = np.argwhere(~whole)[0]
            raise ValueError(f"{name} must be whole category indices, got {arr[b, i]} "
                             f"at (sample {b}, site {i})")
    bad = (arr < 0) | (arr >= n_states)
    if bad.any():
        b, i = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must be category indices in [0, {n_states}), got {arr[b, i]} at "
            f"(sample {b}, site {i}); encode the data with {n_states} states or "
            "build the layer with more states"
        )
    return np.ascontiguousarray(arr, dtype=np.uint8)


class Potts(Layer):
    """Potts units: n sites, each in one of q states.

    Parameters
    ----------
    n : int
        Number of sites.
    q : int, optional
        Number of states per site (2..256); taken from `theta` when given.
    dtype : {numpy.float32, numpy.float64}
    theta : array_like, shape (n, q), optional
        Fields; zeros by default.
    """

    kind = 5
    param_names = ("theta",)

    def __init__(self, n, q=None, dtype=np.float32, theta=None):
        if q is None:
            if theta is None:
                raise ValueError("give the number of states q (e.g. 21 for protein "
                                 "alignments) or the fields theta")
            q = np.shape(theta)[-1] if np.ndim(theta) == 2 else None
        if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not (
                2 <= q <= MAX_STATES):
            raise ValueError(f"number of states q must be an integer in 2..{MAX_STATES}"
                             f", got {q!r}")
        self.q = int(q)
        params = {} if theta is None else {"theta": theta}
        super().__init__(n, dtype=dtype, **params)

    def _default(self, name):
        return np.zeros((self.n, self.q))

    def _vector(self, name, value):
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full((self.n, self.q), float(arr))
        if arr.shape != (self.n, self.q):
            raise ValueError(f"{name} must have shape ({self.n}, {self.q}), got "
                             f"{arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains non-finite values")
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def __repr__(self):
        return f"Potts({self.n}, q={self.q}, dtype={self.dtype.name})"

    @property
    def n_flat(self):
        """Length of the one-hot (site, state) axis, n q."""
        return self.n * self.q

    def weight_shape(self, n_hidden):
        return (self.n, self.q, n_hidden)

    def astype(self, dtype):
        return Potts(self.n, self.q, dtype=dtype, theta=self.theta)

    # -- states -----------------------------------------------------------
    def check_states(self, x, name="states"):
        return as_potts_states(x, self.n, self.q, name)

    def one_hot(self, x):
        """Return the one-hot form of states `x`, float (n_samples, n q)."""
        x = self.check_states(x)
        out = np.zeros((x.shape[0], self.n_flat), dtype=self.dtype)
        flat = np.arange(self.n) * self.q + x
        np.put_along_axis(out, flat.astype(np.intp), 1, axis=1)
        return out

    def frequencies(self, x, weights=None):
        """Return the (weighted) frequency of every state at every site, (n, q)."""
        x = self.check_states(x, "data")
        w = check_weights(weights, x.shape[0])
        counts = np.zeros(self.n_flat)
        offsets = np.arange(self.n, dtype=np.intp) * self.q
        # blocks of about 2^20 states keep the index arrays small (8 MiB)
        step = max(1, 2**20 // self.n)
        for start in range(0, x.shape[0], step):
            flat = (offsets + x[start:start + step]).ravel()
            counts += np.bincount(flat, np.repeat(w[start:start + step], self.n),
                                  minlength=self.n_flat)
        return (counts / w.sum()).reshape(self.n, self.q)

    def init_from_data(self, x, weights=None, eps=1e-4):
        """Fit the independent-site model: theta = log frequencies, zero-sum."""
        f = self.frequencies(x, weights)
        f = (1 - eps) * f + eps / self.q
        theta = np.log(f)
        self.theta = self._vector("theta", theta - theta.mean(axis=1, keepdims=True))

    # -- kernels ----------------------------------------------------------
    def _inputs(self, inputs):
        arr = np.asarray(inputs)
        if arr.ndim == 3 and arr.shape[1:] == (self.n, self.q):
            arr = arr.reshape(arr.shape[0], self.n_flat)
        elif arr.ndim == 2 and arr.shape == (self.n, self.q):
            arr = arr.reshape(1, self.n_flat)
        return as_batch(arr, self.n_flat, self.dtype, "inputs")

    def probabilities(self, inputs, n_threads=None):
        """Return P(v_i = a | inputs), shape (n_samples, n, q)."""
        inputs = self._inputs(inputs)
        out = np.empty_like(inputs)
        _potts.probabilities(self.theta, inputs, out, resolve_threads(n_threads))
        return out.reshape(-1, self.n, self.q)

    def mean(self, inputs, n_threads=None):
        """Return E[one-hot(v) | inputs], the probabilities, (n_samples, n, q)."""
        return self.probabilities(inputs, n_threads)

    def var(self, inputs, n_threads=None):
        """Return Var[one-hot(v) | inputs] = p (1 - p), (n_samples, n, q)."""
        p = self.probabilities(inputs, n_threads)
        return p * (1 - p)

    def mode(self, inputs, n_threads=None):
        """Return the most likely state of every site, uint8 (n_samples, n)."""
        inputs = self._inputs(inputs).reshape(-1, self.n, self.q)
        return np.argmax(self.theta + inputs, axis=2).astype(np.uint8)

    def cgf(self, inputs, n_threads=None):
        """Return sum_i log sum_a exp(theta[i, a] + I[i, a]), float64 (n_samples,)."""
        inputs = self._inputs(inputs)
        out = np.empty(inputs.shape[0])
        _potts.cgf(self.theta, inputs, out, resolve_threads(n_threads))
        return out

    def energy(self, x, n_threads=None):
        """Return U(v) = -sum_i theta[i, v_i], float64 (n_samples,)."""
        x = self.check_states(x)
        picked = np.take_along_axis(self.theta[None, :, :], x[:, :, None].astype(np.intp),
                                    axis=2)[:, :, 0]
        return -picked.sum(axis=1, dtype=np.float64)

    def sample(self, inputs, stream, n_threads=None, row0=0):
        """Sample states given inputs, uint8 (n_samples, n); one stream call."""
        inputs = self._inputs(inputs)
        out = np.empty((inputs.shape[0], self.n), dtype=np.uint8)
        _potts.sample(self.theta, inputs, out, stream.key, stream.take(1), row0,
                      resolve_threads(n_threads))
        return out

    def parameter_gradients(self, stats):
        return {"theta": stats[0].reshape(self.n, self.q)}
