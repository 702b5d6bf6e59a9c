"""Binary {0, 1} and Spin {-1, +1} layers."""
from __future__ import annotations

import numpy as np

from rbmfast.labels import check_weights
from rbmfast.layers.base import Layer

__all__ = ["Binary", "Spin"]


class Binary(Layer):
    """Binary units, x in {0, 1}, U(x) = -theta x.

    Gamma(I) = log(1 + exp(theta + I)) and P(x = 1 | I) = sigmoid(theta + I).
    """

    kind = 0
    param_names = ("theta",)
    states = (0.0, 1.0)

    def init_from_data(self, x, weights=None, eps=1e-4):
        x = self.check_states(x, "data")
        w = check_weights(weights, x.shape[0])
        p = np.clip(w @ x / w.sum(), eps, 1 - eps)
        self.theta = self._vector("theta", np.log(p) - np.log1p(-p))


class Spin(Layer):
    """Spin units, s in {-1, +1}, U(s) = -theta s.

    Gamma(I) = log(2 cosh(theta + I)) and P(s = +1 | I) =
    sigmoid(2 (theta + I)).
    """

    kind = 1
    param_names = ("theta",)
    states = (-1.0, 1.0)

    def init_from_data(self, x, weights=None, eps=1e-4):
        x = self.check_states(x, "data")
        w = check_weights(weights, x.shape[0])
        m = np.clip(w @ x / w.sum(), -1 + eps, 1 - eps)
        self.theta = self._vector("theta", np.arctanh(m))
