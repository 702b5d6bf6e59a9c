"""Pseudo-likelihood and reconstruction error: cheap monitors of a model.

The pseudo-likelihood of v is prod_i P(v_i | v_-i).  rbmfast reports its
log divided by the number of visible units, "per site", in nats, averaged
over samples: PL = (1/N) sum_i log P(v_i | v_-i).  For discrete visible
units P(v_i | v_-i) = sigmoid(F(v') - F(v)), v' being v with site i
flipped, so it needs only free-energy differences.  It is not a likelihood:
it does not involve the partition function.
"""
from __future__ import annotations

import numpy as np

from rbmfast.layers import Binary, Spin

__all__ = ["pseudolikelihood", "reconstruction_error"]


def _flipped(layer, column):
    if isinstance(layer, Binary):
        return 1 - column
    if isinstance(layer, Spin):
        return -column
    raise NotImplementedError(
        f"pseudo-likelihood needs Binary or Spin visible units, not "
        f"{type(layer).__name__}"
    )


def _site_log_conditional(rbm, v, inputs, base_cgf, i):
    """Return log P(v_i | v_-i) for every row of v, float64 (n_samples,)."""
    old = v[:, i].astype(np.float64)
    new = _flipped(rbm.visible, old)
    delta = new - old
    d_energy = -float(rbm.visible.theta[i]) * delta
    shifted = inputs + delta[:, None] * rbm.weights[i].astype(np.float64)
    d_cgf = rbm.hidden.cgf(shifted.astype(rbm.dtype)) - base_cgf
    d_free = d_energy - d_cgf  # F(v') - F(v)
    return -np.logaddexp(0.0, -d_free)


def pseudolikelihood(rbm, v, exact=True, stream_seed=0, batch_size=1024):
    """Return the per-site log pseudo-likelihood of each sample, in nats.

    Parameters
    ----------
    rbm : RBM
        With Binary or Spin visible units.
    v : ndarray, shape (n_samples, n_visible)
    exact : bool
        True sums over every site (cost N free-energy differences per
        sample); False draws one site per sample uniformly from a numpy
        generator seeded by `stream_seed`, an unbiased estimate of the
        per-site mean with more variance.
    batch_size : int
        Samples processed at a time (memory n_samples x n_hidden float64).

    Returns
    -------
    ndarray, shape (n_samples,)
        (1/N) sum_i log P(v_i | v_-i), or log P(v_j | v_-j) at the drawn
        site j when exact is False.
    """
    v = rbm.visible.check_states(v, "visible states")
    _flipped(rbm.visible, v[:0, 0])
    out = np.empty(v.shape[0])
    rng = np.random.default_rng(stream_seed)
    sites = rng.integers(0, rbm.n_visible, size=v.shape[0])
    for b0 in range(0, v.shape[0], batch_size):
        vb = v[b0:b0 + batch_size]
        inputs = vb.astype(np.float64) @ rbm.weights.astype(np.float64)
        base = rbm.hidden.cgf(inputs.astype(rbm.dtype))
        if exact:
            total = np.zeros(vb.shape[0])
            for i in range(rbm.n_visible):
                total += _site_log_conditional(rbm, vb, inputs, base, i)
            out[b0:b0 + len(vb)] = total / rbm.n_visible
        else:
            sb = sites[b0:b0 + len(vb)]
            for i in np.unique(sb):
                rows = np.flatnonzero(sb == i)
                out[b0 + rows] = _site_log_conditional(rbm, vb[rows], inputs[rows],
                                                       base[rows], i)
    return out


def reconstruction_error(rbm, v):
    """Return the mean squared error of v against E[v | h = E[h | v]].

    Parameters
    ----------
    v : ndarray, shape (n_samples, n_visible)

    Returns
    -------
    float
        Mean over samples and sites of (v - E[v | E[h | v]])^2.
    """
    v = rbm.visible.check_states(v, "visible states")
    recon = rbm.visible.mean(rbm.mean_h_from_v(v) @ rbm.weights.T)
    return float(np.mean((v.astype(np.float64) - recon) ** 2))
