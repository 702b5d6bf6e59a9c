"""Log-likelihood of visible states under an RBM, given log Z.

log p(v) = -F(v) - log Z in nats, with F the free energy.  For Gaussian
visible units p is a density, so log p(v) is a log density and may be
positive.  log Z comes from `rbmfast.evaluation.partition`: exact
(`log_partition_exact`, `log_partition_gaussian`) or estimated (`ais`), in
which case the log-likelihood inherits the estimate's error.
`held_out_log_likelihood` picks the route and returns the mean over a data
set.
"""
from __future__ import annotations

import math

import numpy as np

from rbmfast.evaluation.partition import (_base_layer, ais, log_partition_exact,
                                          log_partition_gaussian, reverse_ais)
from rbmfast.layers import Gaussian
from rbmfast.random import Stream, seed_sequence

__all__ = ["LOG_Z_METHODS", "held_out_log_likelihood", "log_likelihood",
           "log_likelihood_per_site", "log_z_method"]

#: routes to log Z accepted by `held_out_log_likelihood`
LOG_Z_METHODS = ("auto", "exact", "gaussian", "ais")

# Spawn key of the Gibbs sweeps that bring the forward AIS samples to the
# model before reverse AIS starts from them; AIS itself uses spawn key 3.
_REVERSE_START_SPAWN_KEY = 4


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


def log_z_method(rbm, method="auto", max_states=2**20):
    """Return the route to log Z that `held_out_log_likelihood` takes.

    "auto" is "gaussian" for Gaussian visible and hidden layers, "exact" when
    the smaller discrete layer has at most `max_states` states (2^n for n
    units), and "ais" otherwise.  Other values are checked and returned.
    """
    if method not in LOG_Z_METHODS:
        raise ValueError(f"log Z method must be one of {list(LOG_Z_METHODS)}, got "
                         f"{method!r}")
    if method != "auto":
        return method
    if isinstance(rbm.visible, Gaussian) and isinstance(rbm.hidden, Gaussian):
        return "gaussian"
    discrete = [layer.n for layer in (rbm.visible, rbm.hidden)
                if layer.states is not None]
    if discrete and 2.0 ** min(discrete) <= max_states:
        return "exact"
    return "ais"


def held_out_log_likelihood(rbm, data, base_data=None, method="auto",
                            max_states=2**20, n_chains=256, n_betas=2000,
                            reverse=True, n_reverse_sweeps=100, seed=0,
                            n_threads=None):
    """Compute the mean log-likelihood of `data`, with log Z by the best route.

    Parameters
    ----------
    rbm : RBM
    data : array_like, shape (n_samples, n_visible)
        Held-out visible states.
    base_data : array_like, shape (n, n_visible), optional
        Training states to fit the AIS base layer to (see `ais`).  Without
        them the base layer has zero fields, which gives far more variable
        weights.
    method : {"auto", "exact", "gaussian", "ais"}
        Route to log Z, chosen by `log_z_method` for "auto".
    max_states : int
        Largest number of states that "auto" and "exact" enumerate.
    n_chains, n_betas : int
        Chains and inverse temperatures of AIS.
    reverse : bool
        With AIS, also run reverse AIS from the forward samples, resampled
        by their importance weights and advanced by `n_reverse_sweeps`
        Gibbs sweeps of the model.
    seed : int
        Seed of the AIS streams.
    n_threads : int, optional

    Returns
    -------
    dict
        ``method``; ``log_z``; ``log_likelihood`` and
        ``log_likelihood_per_site``, the means over `data` in nats;
        ``std_error_data``, the standard error of that mean over the
        samples, and ``n_samples``.  With AIS also ``log_z_std_error`` (the
        delta-method error of log Z, which is also the error of the mean
        log-likelihood) and, with `reverse`, ``log_z_reverse``,
        ``log_z_reverse_std_error`` and ``log_likelihood_reverse``.

    Notes
    -----
    Forward AIS underestimates log Z in expectation, so its log-likelihood
    is an upper estimate.  Reverse AIS from exact model samples
    overestimates log Z, so the two bracket the exact value.  The reverse
    run starts from Gibbs chains, which are approximate model samples, so
    its bound is approximate too: when they miss a mode of the model the
    reverse estimate of log Z can be too low.
    """
    data = rbm.visible.check_states(data, "held-out data")
    if base_data is not None:
        base_data = rbm.visible.check_states(base_data, "AIS base data")
    method = log_z_method(rbm, method, max_states)
    result = {"method": method}
    if method == "exact":
        log_z = log_partition_exact(rbm, max_states=max_states, n_threads=n_threads)
    elif method == "gaussian":
        log_z = log_partition_gaussian(rbm)
    else:
        forward = ais(rbm, n_chains=n_chains, n_betas=n_betas, data=base_data,
                      seed=seed, n_threads=n_threads)
        log_z = forward.log_z
        result["log_z_std_error"] = forward.std_error
        result["n_chains"], result["n_betas"] = n_chains, n_betas
    per_sample = log_likelihood(rbm, data, log_z, n_threads)
    mean = float(per_sample.mean())
    result.update({
        "log_z": float(log_z),
        "log_likelihood": mean,
        "log_likelihood_per_site": mean / rbm.n_visible,
        "std_error_data": _standard_error(per_sample),
        "n_samples": int(len(per_sample)),
    })
    if method == "ais" and reverse:
        start = _reverse_start(rbm, forward, n_reverse_sweeps, seed, n_threads)
        # the reverse run shares the forward run's base layer
        base = _base_layer(rbm, None, base_data)
        backward = reverse_ais(rbm, start, n_betas=n_betas, seed=seed, base=base,
                               n_threads=n_threads)
        result["log_z_reverse"] = backward.log_z
        result["log_z_reverse_std_error"] = backward.std_error
        result["log_likelihood_reverse"] = mean + float(log_z) - backward.log_z
        result["n_reverse_sweeps"] = n_reverse_sweeps
    return result


def _reverse_start(rbm, forward, n_sweeps, seed, n_threads):
    """Return approximate model samples from a forward AIS run.

    The final AIS states are resampled in proportion to their importance
    weights, then advanced by `n_sweeps` Gibbs sweeps.  Some chains can end
    in states of low model probability, with a hidden unit stuck in its rare
    state for example.  Without resampling they would start the reverse run
    as often as the others, and its estimate of log Z can then fall far
    below the exact value.
    """
    weights = np.exp(forward.log_weights - forward.log_weights.max())
    rng = np.random.default_rng(seed_sequence(seed, _REVERSE_START_SPAWN_KEY, 0))
    rows = rng.choice(weights.size, weights.size, p=weights / weights.sum())
    stream = Stream.from_seed(seed, _REVERSE_START_SPAWN_KEY, 1)
    start, _ = rbm.gibbs(forward.samples[rows], stream, n_sweeps,
                         n_threads=n_threads)
    return start


def _standard_error(values):
    if values.size < 2:
        return math.nan
    return float(values.std(ddof=1) / math.sqrt(values.size))
