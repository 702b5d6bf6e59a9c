"""Gaussian layer: real units with U(x) = gamma x^2 / 2 - theta x."""
from __future__ import annotations

import numpy as np

from rbmfast.labels import check_weights
from rbmfast.layers.base import Layer

__all__ = ["Gaussian"]


class Gaussian(Layer):
    """Gaussian units with fields theta and precisions gamma > 0.

    Given inputs I, x is normal with mean (theta + I) / gamma and variance
    1 / gamma; Gamma(I) = (theta + I)^2 / (2 gamma) + log(2 pi / gamma) / 2.
    """

    kind = 2
    param_names = ("theta", "gamma")
    precision_names = ("gamma",)
    #: precisions are kept at or above this value during training
    gamma_min = 1e-3

    def _default(self, name):
        return np.ones(self.n) if name == "gamma" else np.zeros(self.n)

    def check_parameters(self):
        bad = np.flatnonzero(~(self.gamma > 0))
        if bad.size:
            j = bad[0]
            raise ValueError(
                f"Gaussian precision gamma must be > 0, got {self.gamma[j]} "
                f"at unit {j}"
            )

    def constrain_parameters(self):
        np.maximum(self.gamma, self.gamma_min, out=self.gamma)

    def init_from_data(self, x, weights=None, eps=1e-4):
        x = self.check_states(x, "data")
        w = check_weights(weights, x.shape[0])
        mean = w @ x / w.sum()
        var = w @ (x - mean) ** 2 / w.sum() + eps
        self.gamma = self._vector("gamma", 1 / var)
        self.theta = self._vector("theta", mean / var)
