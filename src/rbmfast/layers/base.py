"""The interface every layer implements.

A layer is a set of independent units with a potential U(x) per unit and
parameter vectors of one length.  Given the inputs I from the other layer
(x = theta + I), a layer computes its energy, its cumulant generating
function Gamma(I) = log sum_x exp(I x - U(x)), the conditional mean,
variance and mode, and samples; the computations run in the C kernels.
Arrays are batch-first, (n_samples, n_units), in the layer's dtype.
"""
from __future__ import annotations

import numpy as np

from rbmfast._kernels import _layers
from rbmfast._threads import resolve_threads

__all__ = ["Layer", "as_batch"]


def as_batch(x, n_units, dtype, name="inputs"):
    """Return `x` as a C-contiguous (n_samples, n_units) array of `dtype`.

    A 1-D array of length n_units is taken as one sample.  Raises ValueError
    for the wrong width or non-finite values.
    """
    arr = np.asarray(x)
    if arr.ndim == 1 and arr.shape[0] == n_units:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_units:
        raise ValueError(
            f"{name} must have shape (n_samples, {n_units}), got {np.shape(x)}"
        )
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_:
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains a non-finite value {arr[tuple(bad)]} at "
            f"(sample {bad[0]}, unit {bad[1]}); remove or impute it first"
        )
    return arr


class Layer:
    """Base class of the layers; subclasses set `kind`, `param_names`.

    Parameters
    ----------
    n : int
        Number of units.
    dtype : {numpy.float32, numpy.float64}
        Floating type of the parameters and of every batch passed in.
    **params : array_like, shape (n,)
        Initial parameter vectors by name; missing ones take defaults.
    """

    kind = -1
    param_names = ("theta",)
    #: values a state may take, or None for real-valued units
    states = None
    #: lower bound of real-valued states (ReLU: 0), or None
    minimum = None
    #: parameters that change as 1 / s (fields) and as 1 / s^2 (precisions)
    #: when the units change to s h; see `rescale`
    field_names = ("theta",)
    precision_names = ()

    def __init__(self, n, dtype=np.float32, **params):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"number of units must be a positive integer, got {n!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        unknown = set(params) - set(self.param_names)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no parameters {sorted(unknown)}; "
                f"its parameters are {list(self.param_names)}"
            )
        self.n = int(n)
        self.dtype = dtype
        for name in self.param_names:
            value = params.get(name)
            if value is None:
                value = self._default(name)
            setattr(self, name, self._vector(name, value))
        self.check_parameters()

    def _default(self, name):
        return np.zeros(self.n)

    def _vector(self, name, value):
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(self.n, float(arr))
        if arr.shape != (self.n,):
            raise ValueError(f"{name} must have shape ({self.n},), got {arr.shape}")
        if not np.isfinite(arr).all():
            j = np.flatnonzero(~np.isfinite(arr))[0]
            raise ValueError(f"{name} contains non-finite values ({arr[j]} at "
                             f"unit {j})")
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}({self.n}, dtype={self.dtype.name})"

    @property
    def n_flat(self):
        """Length of the layer's axis in the weights (n; n q for Potts)."""
        return self.n

    def weight_shape(self, n_hidden):
        """Shape of the weights between this (visible) layer and n_hidden units."""
        return (self.n, n_hidden)

    # -- parameters -------------------------------------------------------
    def params(self):
        """Return the parameter vectors as a tuple, in `param_names` order."""
        return tuple(getattr(self, name) for name in self.param_names)

    def check_parameters(self):
        """Raise ValueError when a parameter is outside its domain."""

    def constrain_parameters(self):
        """Move parameters back into their domain after an update."""

    def rescale(self, scale):
        """Change the units to h' = scale * h, in place.

        Fields are divided by `scale` and precisions by `scale` squared, so
        U'(scale * h) = U(h).  With the weight columns divided by `scale`,
        the RBM keeps the same distribution of the visible units.

        Parameters
        ----------
        scale : float or array_like, shape (n,)
            Positive finite factor per unit.

        Raises
        ------
        TypeError
            For discrete units, whose states are fixed.
        ValueError
            For a factor that is not positive and finite.
        """
        if self.states is not None:
            raise TypeError(f"{type(self).__name__} units take the fixed values "
                            f"{list(self.states)} and cannot be rescaled")
        scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (self.n,))
        bad = np.flatnonzero(~(np.isfinite(scale) & (scale > 0)))
        if bad.size:
            j = bad[0]
            raise ValueError(f"rescale factor must be positive and finite, got "
                             f"{scale[j]} at unit {j}")
        for name in self.field_names:
            param = getattr(self, name)
            np.divide(param, scale, out=param, casting="same_kind")
        for name in self.precision_names:
            param = getattr(self, name)
            np.divide(param, scale * scale, out=param, casting="same_kind")

    def astype(self, dtype):
        """Return a copy of the layer with parameters of `dtype`."""
        return type(self)(self.n, dtype=dtype, **dict(zip(self.param_names, self.params())))

    def copy(self):
        """Return a deep copy of the layer."""
        return self.astype(self.dtype)

    def init_from_data(self, x, weights=None, eps=1e-4):
        """Set the fields so that the independent-unit model fits `x`.

        Parameters
        ----------
        x : ndarray, shape (n_samples, n)
        weights : ndarray, shape (n_samples,), optional
        eps : float
            Pseudocount that keeps fields finite for units that never (or
            always) take a state.
        """
        raise NotImplementedError

    # -- states -----------------------------------------------------------
    def check_states(self, x, name="states"):
        """Return `x` as a batch of valid states, or raise ValueError."""
        arr = as_batch(x, self.n, self.dtype, name)
        if self.states is not None:
            low, high = self.states
            bad = (arr != low) & (arr != high)
            if bad.any():
                b, j = np.argwhere(bad)[0]
                low, high = self.states
                raise ValueError(
                    f"{name} of a {type(self).__name__} layer must be {low:g} or "
                    f"{high:g}, got {arr[b, j]} at (sample {b}, unit {j}); threshold "
                    "the data first, or use Gaussian visible units for real values"
                )
        if self.minimum is not None:
            below = np.argwhere(arr < self.minimum)
            if below.size:
                b, j = below[0]
                raise ValueError(
                    f"{name} of a {type(self).__name__} layer must be >= "
                    f"{self.minimum}, got {arr[b, j]} at (sample {b}, unit {j})"
                )
        return arr

    # -- kernels ----------------------------------------------------------
    def _inputs(self, inputs):
        return as_batch(inputs, self.n, self.dtype, "inputs")

    def _moment(self, inputs, what, n_threads):
        inputs = self._inputs(inputs)
        out = np.empty_like(inputs)
        _layers.moment(self.kind, self.params(), inputs, out, what,
                       resolve_threads(n_threads))
        return out

    def mean(self, inputs, n_threads=None):
        """Return E[x | inputs], shape (n_samples, n)."""
        return self._moment(inputs, _layers.MOMENT_MEAN, n_threads)

    def var(self, inputs, n_threads=None):
        """Return Var[x | inputs], shape (n_samples, n)."""
        return self._moment(inputs, _layers.MOMENT_VAR, n_threads)

    def mode(self, inputs, n_threads=None):
        """Return the most likely state given inputs, shape (n_samples, n)."""
        return self._moment(inputs, _layers.MOMENT_MODE, n_threads)

    def cgf(self, inputs, n_threads=None):
        """Return sum_j Gamma_j(inputs[:, j]), shape (n_samples,), float64."""
        inputs = self._inputs(inputs)
        out = np.empty(inputs.shape[0])
        _layers.cgf(self.kind, self.params(), inputs, out, resolve_threads(n_threads))
        return out

    def energy(self, x, n_threads=None):
        """Return sum_j U_j(x[:, j]), shape (n_samples,), float64."""
        x = self.check_states(x)
        out = np.empty(x.shape[0])
        _layers.energy(self.kind, self.params(), x, out, resolve_threads(n_threads))
        return out

    def sample(self, inputs, stream, n_threads=None, row0=0):
        """Sample states given inputs, advancing `stream` by one call.

        Parameters
        ----------
        inputs : ndarray, shape (n_samples, n)
        stream : rbmfast.random.Stream
        row0 : int
            Stream row of the first sample; row b draws from row0 + b.
        """
        inputs = self._inputs(inputs)
        out = np.empty_like(inputs)
        _layers.sample(self.kind, self.params(), inputs, out, stream.key,
                       stream.take(1), row0, resolve_threads(n_threads))
        return out

    # -- gradients --------------------------------------------------------
    def parameter_gradients(self, stats):
        """Map the (R, n) statistics of a gradient kernel to parameters.

        Returns a dict name -> gradient of the negative log-likelihood.
        """
        return {name: stats[i] for i, name in enumerate(self.param_names)}
