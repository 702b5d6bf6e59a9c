"""ReLU and dReLU hidden layers: real units with piecewise quadratic potentials.

ReLU units take h >= 0 with U(h) = gamma h^2 / 2 - theta h.  dReLU units
take any real h with
    U(h) = gamma_plus h_+^2 / 2 + gamma_minus h_-^2 / 2
           - theta_plus h_+ - theta_minus h_-,
h_+ = max(h, 0) and h_- = min(h, 0).  Given the input I, each half-line is
a truncated normal, so the cgf, moments and samples come from erfcx and an
inverse truncated-normal CDF in the C kernels (csrc/special.h).  Both are
hidden layers: they have no independent-unit fit to data.
"""
from __future__ import annotations

import numpy as np

from rbmfast.layers.base import Layer

__all__ = ["ReLU", "DReLU"]


class _HiddenContinuous(Layer):
    """Shared parts of ReLU and dReLU: precisions > 0, no data fit."""

    #: precisions are kept at or above this value during training
    gamma_min = 1e-3

    def _default(self, name):
        return np.ones(self.n) if name in self.precision_names else np.zeros(self.n)

    def check_parameters(self):
        for name in self.precision_names:
            value = getattr(self, name)
            bad = np.flatnonzero(~(value > 0))
            if bad.size:
                j = bad[0]
                raise ValueError(
                    f"{type(self).__name__} precision {name} must be > 0, got "
                    f"{value[j]} at unit {j}"
                )

    def constrain_parameters(self):
        for name in self.precision_names:
            param = getattr(self, name)
            np.maximum(param, self.gamma_min, out=param)

    def init_from_data(self, x, weights=None, eps=1e-4):
        raise NotImplementedError(
            f"{type(self).__name__} units are hidden units only and have no fit "
            "to data; use them as the hidden layer and a Binary, Spin or "
            "Gaussian visible layer"
        )


class ReLU(_HiddenContinuous):
    """ReLU units h >= 0 with fields theta and precisions gamma > 0.

    Given inputs I, h is a normal of mean (theta + I) / gamma and variance
    1 / gamma truncated to h >= 0, and
    Gamma(I) = log(pi / (2 gamma)) / 2 + log erfcx(-(theta + I) / sqrt(2 gamma)).
    """

    kind = 3
    param_names = ("theta", "gamma")
    field_names = ("theta",)
    precision_names = ("gamma",)
    minimum = 0.0


class DReLU(_HiddenContinuous):
    """dReLU units: real h with a ReLU potential on each side of 0.

    h >= 0 has field theta_plus and precision gamma_plus, h < 0 has
    theta_minus and gamma_minus.  Given inputs I the cgf is
    log(exp(Gamma_plus) + exp(Gamma_minus)), with Gamma_plus the ReLU cgf
    at theta_plus + I, gamma_plus and Gamma_minus the ReLU cgf at
    -(theta_minus + I), gamma_minus.  The gradient statistics are E[h_+],
    E[h_-], -E[h_+^2] / 2 and -E[h_-^2] / 2, in `param_names` order.
    """

    kind = 4
    param_names = ("theta_plus", "theta_minus", "gamma_plus", "gamma_minus")
    field_names = ("theta_plus", "theta_minus")
    precision_names = ("gamma_plus", "gamma_minus")
