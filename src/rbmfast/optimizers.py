"""Optimisers for RBM parameters: Adam (default) and SGD.

Parameters are a dict of named C-contiguous arrays (e.g. "weights",
"visible.theta"); the elementwise steps run in the C kernels, with the L2
and L1 penalties of each block folded into the same pass.
"""
from __future__ import annotations

import numpy as np

from rbmfast._kernels import _optim
from rbmfast._threads import resolve_threads

__all__ = ["Adam", "SGD", "NonFiniteParameterError", "make_optimizer"]


class NonFiniteParameterError(FloatingPointError):
    """A parameter became NaN or infinite during training."""


class _Optimizer:
    def __init__(self):
        self.t = 0
        self.buffers = {}

    def state_arrays(self):
        """Return the optimiser buffers as a flat dict of arrays."""
        return {f"{name}/{slot}": arr for name, slots in self.buffers.items()
                for slot, arr in slots.items()}

    def load_state(self, t, arrays):
        """Restore buffers saved by :meth:`state_arrays` and step count t."""
        self.t = int(t)
        self.buffers = {}
        for key, arr in arrays.items():
            name, slot = key.rsplit("/", 1)
            self.buffers.setdefault(name, {})[slot] = np.ascontiguousarray(arr)

    def _slots(self, name, param, slots):
        entry = self.buffers.get(name)
        if entry is None:
            entry = {slot: np.zeros_like(param) for slot in slots}
            self.buffers[name] = entry
        for slot in slots:
            if entry[slot].shape != param.shape or entry[slot].dtype != param.dtype:
                raise ValueError(
                    f"optimiser buffer {name}/{slot} has shape {entry[slot].shape} "
                    f"{entry[slot].dtype}, parameter has {param.shape} {param.dtype}"
                )
        return entry

    def step(self, params, grads, lr, penalties=None, n_threads=None, update=None):
        """Apply one step to every parameter in place.

        Parameters
        ----------
        params, grads : dict of str -> ndarray
            Parameters and the gradients of the loss, same names and shapes.
        lr : float
            Learning rate of this step.
        penalties : dict of str -> (l2, l1), optional
            Per-block penalty l2 p^2 / 2 + l1 |p| added to the loss.
        update : int, optional
            Update number, reported if a parameter becomes non-finite.
        """
        self.t += 1
        penalties = penalties or {}
        threads = resolve_threads(n_threads)
        for name, param in params.items():
            l2, l1 = penalties.get(name, (0.0, 0.0))
            try:
                self._step_one(name, param.reshape(-1), grads[name].reshape(-1),
                               lr, l2, l1, threads)
            except FloatingPointError:
                where = f" at update {update}" if update is not None else ""
                raise NonFiniteParameterError(
                    f"parameter block {name!r} became NaN or infinite{where}; "
                    "lower the learning rate or add weight decay"
                ) from None


class Adam(_Optimizer):
    """Adam with bias correction (Kingma and Ba, 2015)."""

    buffers_required = True

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__()
        for name, value in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= value < 1:
                raise ValueError(f"Adam {name} must be in [0, 1), got {value}")
        if not eps > 0:
            raise ValueError(f"Adam eps must be > 0, got {eps}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _step_one(self, name, param, grad, lr, l2, l1, threads):
        slots = self._slots(name, param, ("m", "v"))
        _optim.adam(param, grad, slots["m"].reshape(-1), slots["v"].reshape(-1), lr,
                    self.beta1, self.beta2, self.eps, self.t, l2, l1, threads)


class SGD(_Optimizer):
    """Stochastic gradient descent with optional heavy-ball momentum."""

    @property
    def buffers_required(self):
        return self.momentum > 0

    def __init__(self, momentum=0.0):
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def _step_one(self, name, param, grad, lr, l2, l1, threads):
        buf = None
        if self.momentum > 0:
            buf = self._slots(name, param, ("momentum",))["momentum"].reshape(-1)
        _optim.sgd(param, grad, buf, lr, self.momentum, l2, l1, threads)


def make_optimizer(name, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.0):
    """Return a new optimiser by name ('adam' or 'sgd')."""
    if name == "adam":
        return Adam(beta1, beta2, eps)
    if name == "sgd":
        return SGD(momentum)
    raise ValueError(f"unknown optimizer {name!r}; choose 'adam' or 'sgd'")
