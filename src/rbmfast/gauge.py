"""The zero-sum gauge of Potts visible layers.

Adding c_i to every field theta[i, :] of site i changes every energy by
the same constant.  Adding d_i(mu) to every weight W[i, :, mu] changes the
input of hidden unit mu by sum_i d_i(mu) whatever the visible state, and a
shift of the hidden unit's field undoes that.  The zero-sum gauge picks
the representative with sum_a theta[i, a] = 0 and sum_a W[i, a, mu] = 0:
it leaves p(v), p(h | v) and p(v | h) unchanged, so free-energy
differences and log-likelihoods are unchanged, while F(v) rises and log Z
falls by sum_i mean_a theta[i, a].  Gradients are projected onto the same
subspace, so plain SGD stays in the gauge.  Adam's per-element scaling
leaves the subspace, so the gauge is applied again after each step.

The first-order constraint vectors of Potts data come from one-hot
statistics, whose entries sum to zero over the states of each site, so
the constraint projection and the gauge commute and hold together.
"""
from __future__ import annotations

import numpy as np

from rbmfast.layers import Potts

__all__ = ["apply_zero_sum_gauge", "project_zero_sum", "hidden_field_names"]


def hidden_field_names(layer):
    """Names of the hidden layer's parameters that add to its input."""
    return tuple(layer.field_names)


def project_zero_sum(array):
    """Subtract, in place, the mean over the state axis (axis 1) of `array`.

    `array` has shape (n_sites, q) (fields) or (n_sites, q, M) (weights).
    """
    array -= array.mean(axis=1, keepdims=True, dtype=np.float64).astype(array.dtype)
    return array


def apply_zero_sum_gauge(rbm):
    """Move a Potts RBM to the zero-sum gauge in place.

    The hidden fields absorb the weight means, so the model is unchanged.
    Returns sum_i mean_a theta[i, a], the constant by which F(v) rose and
    log Z fell, or 0 for other visible layers, which are left as they are.
    """
    if not isinstance(rbm.visible, Potts):
        return 0.0
    theta = rbm.visible.theta
    field_means = theta.mean(axis=1, dtype=np.float64)
    theta -= field_means[:, None].astype(theta.dtype)
    W = rbm.weights
    weight_means = W.mean(axis=1, dtype=np.float64)           # (n_sites, M)
    W -= weight_means[:, None, :].astype(W.dtype)
    shift = weight_means.sum(axis=0)
    for name in hidden_field_names(rbm.hidden):
        field = getattr(rbm.hidden, name)
        field += shift.astype(field.dtype)
    return float(field_means.sum())
