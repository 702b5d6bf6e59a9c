"""Log-likelihood of visible states under an RBM, given log Z.

log p(v) = -F(v) - log Z in nats, with F the free energy.  For Gaussian
visible units p is a density, so log p(v) is a log density and may be
positive.  log Z comes from `rbmfast.evaluation.partition`: exact
(`log_partition_exact`, `log_partition_gaussian`) or estimated (`ais`), in
which case the log-likelihood inherits the estimate's error.
"""
from __future__ import annotations

import numpy as np

__all__ = ["log_likelihood", "log_likelihood_per_site"]


def log_likelihood(rbm, v, log_z, n_threads=None):
    """Compute log p(v) = -F(v) - log Z of each sample, in nats.

    Parameters
    ----------
    rbm : RBM
    v : array_like, shape (n_samples, n_visible)
        Visible states.
    log_z : float
        log Z of `rbm`, for example ``log_partition_exact(rbm)`` or
        ``ais(rbm).log_z``.
    n_threads : int, optional
        Threads of the free-energy kernel.

    Returns
    -------
    ndarray of float64, shape (n_samples,)
        Log-likelihood (a log density for Gaussian visible units).

    Raises
    ------
    ValueError
        If `log_z` is not finite, or `v` is not a batch of valid visible
        states.
    """
    log_z = float(log_z)
    if not np.isfinite(log_z):
        raise ValueError(
            f"log_z must be finite, got {log_z}; an infinite log Z means the "
            "model is not normalisable"
        )
    return -rbm.free_energy(v, n_threads) - log_z


def log_likelihood_per_site(rbm, v, log_z, n_threads=None):
    """Compute log p(v) / n_visible of each sample, in nats per visible unit.

    The scale of `rbmfast.evaluation.pseudolikelihood.pseudolikelihood`,
    so both can be compared directly.  Parameters and errors are those of
    `log_likelihood`.

    Returns
    -------
    ndarray of float64, shape (n_samples,)
        Log-likelihood divided by the number of visible units.
    """
    return log_likelihood(rbm, v, log_z, n_threads) / rbm.n_visible
