"""The log partition function log Z of an RBM: exact, closed form and AIS.

Z = sum_v exp(-F(v)) (an integral for Gaussian units), so that
p(v) = exp(-F(v)) / Z.  Three routes are provided:

- `log_partition_exact` enumerates the states of one discrete layer.  Its
  cost is 2^n free energies for the n units of that layer.
- `log_partition_gaussian` evaluates the Gaussian integral of a model with
  Gaussian visible and Gaussian hidden units in closed form.
- `ais` and `reverse_ais` estimate log Z by annealed importance sampling
  (AIS) for any layer types.

Every value is in nats and is computed in float64, except that AIS samples
and evaluates free energies in the model's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.special import logsumexp

from rbmfast.gauge import hidden_field_names
from rbmfast.layers import Gaussian, Layer, Potts
from rbmfast.random import Stream
from rbmfast.rbm import RBM

__all__ = ["AISResult", "ais", "log_partition_exact", "log_partition_gaussian",
           "reverse_ais"]

# States enumerated per block.  A block of n units takes 2^16 * n * 8 bytes per
# float64 array, 10 MiB for n = 20.
_ENUMERATION_CHUNK = 2**16
# Spawn key of the AIS streams, so a training run (spawn key (2,)) and an AIS
# run with the same seed draw independent numbers.
_AIS_SPAWN_KEY = 3
_DEFAULT_N_BETAS = 1000


# -- exact enumeration ---------------------------------------------------------
def log_partition_exact(rbm, max_states=2**20, layer="auto", n_threads=None):
    """Compute log Z exactly by enumerating every state of one discrete layer.

    Enumerating the visible layer sums exp(-F(v)) over its states.
    Enumerating the hidden layer sums exp(-U_h(h) + Gamma_v(W h)), with
    Gamma_v the visible layer's cumulant generating function, so the other
    layer may be of any type (Gaussian included).

    Parameters
    ----------
    rbm : RBM
        Model with at least one Binary or Spin layer.  Float32 models are
        cast to float64 first.
    max_states : int, default 2**20
        Largest number of states (2^n for n units) that may be enumerated.
    layer : {"auto", "visible", "hidden"}, default "auto"
        Layer to enumerate.  "auto" takes the discrete layer with fewer
        units, the visible one on a tie.
    n_threads : int, optional
        Threads of the free-energy and cgf kernels.

    Returns
    -------
    float
        log Z in nats.

    Raises
    ------
    ValueError
        If no layer is discrete, if the requested layer is real-valued, or if
        the enumerated layer has more than `max_states` states.
    """
    if layer not in ("auto", "visible", "hidden"):
        raise ValueError(
            f"layer must be 'auto', 'visible' or 'hidden', got {layer!r}"
        )
    rbm = _check_rbm(rbm).astype(np.float64)
    layer = _enumerated_layer(rbm, layer)
    enumerated = rbm.visible if layer == "visible" else rbm.hidden
    per_unit = _states_per_unit(enumerated)
    n_states = per_unit**enumerated.n
    if n_states > max_states:
        raise ValueError(
            f"enumerating the {layer} layer takes {per_unit}^{enumerated.n} = "
            f"{n_states} states, more than max_states={max_states}; raise "
            "max_states or estimate log Z with ais() (on the command line: "
            "--max-states or --log-z ais)"
        )

    chunk_log_z = []
    for start in range(0, n_states, _ENUMERATION_CHUNK):
        stop = min(start + _ENUMERATION_CHUNK, n_states)
        states = _enumerate_states(enumerated, start, stop)
        if layer == "visible":
            log_weights = -rbm.free_energy(states, n_threads)
        else:
            inputs = rbm.inputs_v_from_h(states)
            log_weights = (rbm.visible.cgf(inputs, n_threads)
                           - rbm.hidden.energy(states, n_threads))
        chunk_log_z.append(logsumexp(log_weights))
    return float(logsumexp(chunk_log_z))


def _states_per_unit(layer):
    """Number of states of one unit (site) of a discrete layer, else None."""
    if isinstance(layer, Potts):
        return layer.q
    return None if layer.states is None else len(layer.states)


def _enumerated_layer(rbm, layer):
    discrete = {"visible": _states_per_unit(rbm.visible) is not None,
                "hidden": _states_per_unit(rbm.hidden) is not None}
    if not any(discrete.values()):
        raise ValueError(
            "log_partition_exact needs a Binary or Spin layer to enumerate, but "
            "both layers are real-valued; use log_partition_gaussian() for "
            "Gaussian layers or ais() (on the command line: --log-z gaussian or "
            "--log-z ais)"
        )
    if layer == "auto":
        if discrete["visible"] and discrete["hidden"]:
            n_visible = _states_per_unit(rbm.visible)**rbm.n_visible
            return "visible" if n_visible <= 2**rbm.n_hidden else "hidden"
        return "visible" if discrete["visible"] else "hidden"
    if not discrete[layer]:
        raise ValueError(
            f"the {layer} layer is real-valued and cannot be enumerated; pass "
            "layer='auto' to enumerate the discrete layer"
        )
    return layer


def _enumerate_states(layer, start, stop):
    """Return states start..stop-1 of `layer`, unit j taking digit j of the
    index in base 2 (Binary, Spin) or q (Potts)."""
    index = np.arange(start, stop, dtype=np.int64)
    if isinstance(layer, Potts):
        digits = (index[:, None] // layer.q ** np.arange(layer.n, dtype=np.int64))
        return (digits % layer.q).astype(np.uint8)
    bits = (index[:, None] >> np.arange(layer.n, dtype=np.int64)) & 1
    return np.asarray(layer.states, dtype=np.float64)[bits]


# -- Gaussian-Gaussian closed form ------------------------------------------------
def log_partition_gaussian(rbm, on_indefinite="raise"):
    """Compute log Z of a Gaussian-visible, Gaussian-hidden RBM in closed form.

    The joint density is exp(-x^T A x / 2 + b^T x) over x = (v, h), with
    precision matrix A = [[diag(gamma_v), -W], [-W^T, diag(gamma_h)]] and
    linear term b = (theta_v, theta_h).  For positive definite A,
    log Z = (n/2) log(2 pi) - (1/2) log det A + (1/2) b^T A^-1 b, where
    n = n_visible + n_hidden.  Otherwise the integral diverges.

    Parameters
    ----------
    rbm : RBM
        Model with Gaussian visible and Gaussian hidden layers.
    on_indefinite : {"raise", "inf"}, default "raise"
        Action when A is not positive definite (its Cholesky factorisation
        fails): raise ValueError, or return +inf.

    Returns
    -------
    float
        log Z in nats, or +inf when A is not positive definite and
        `on_indefinite` is "inf".

    Raises
    ------
    ValueError
        If a layer is not Gaussian, or if A is not positive definite and
        `on_indefinite` is "raise".  The message gives the smallest
        eigenvalue of A.
    """
    if on_indefinite not in ("raise", "inf"):
        raise ValueError(
            f"on_indefinite must be 'raise' or 'inf', got {on_indefinite!r}"
        )
    rbm = _check_rbm(rbm)
    if not (isinstance(rbm.visible, Gaussian) and isinstance(rbm.hidden, Gaussian)):
        raise ValueError(
            "log_partition_gaussian needs Gaussian visible and hidden layers, got "
            f"{type(rbm.visible).__name__} and {type(rbm.hidden).__name__}; use "
            "log_partition_exact() for a model with a discrete layer (on the "
            "command line: --log-z exact or --log-z ais)"
        )
    precision = _joint_precision(rbm)
    linear = np.concatenate([rbm.visible.theta, rbm.hidden.theta]).astype(np.float64)
    factor = _cholesky(precision, raise_indefinite=on_indefinite == "raise")
    if factor is None:
        return float("inf")
    n = precision.shape[0]
    log_det = 2.0 * np.sum(np.log(np.diag(factor[0])))
    quadratic = linear @ scipy.linalg.cho_solve(factor, linear)
    return float(0.5 * n * np.log(2 * np.pi) - 0.5 * log_det + 0.5 * quadratic)


def _cholesky(precision, raise_indefinite):
    """Return the Cholesky factor of `precision`, or None if it is indefinite.

    With `raise_indefinite`, an indefinite matrix raises ValueError instead.
    """
    try:
        return scipy.linalg.cho_factor(precision, lower=True)
    except np.linalg.LinAlgError:
        if not raise_indefinite:
            return None
    smallest = float(np.linalg.eigvalsh(precision)[0])
    raise ValueError(
        "the joint precision matrix [[diag(gamma_v), -W], [-W^T, "
        f"diag(gamma_h)]] is not positive definite (smallest eigenvalue "
        f"{smallest:.6g}), so Z diverges; increase the precisions gamma or "
        "shrink the weights"
    )


def _joint_precision(rbm):
    n_visible, n_hidden = rbm.n_visible, rbm.n_hidden
    precision = np.zeros((n_visible + n_hidden,) * 2)
    precision[:n_visible, :n_visible] = np.diag(rbm.visible.gamma)
    precision[n_visible:, n_visible:] = np.diag(rbm.hidden.gamma)
    precision[:n_visible, n_visible:] = -rbm.weights
    precision[n_visible:, :n_visible] = -rbm.weights.T
    return precision


# -- annealed importance sampling --------------------------------------------------
@dataclass
class AISResult:
    """Estimate of log Z from one annealed importance sampling run.

    Attributes
    ----------
    log_z : float
        Estimate of log Z in nats.
    std_error : float
        Delta-method standard error of `log_z`,
        std(w) / (sqrt(n_chains) mean(w)) over the importance weights w.
        It understates the error when a few weights dominate.
    log_weights : ndarray of float64, shape (n_chains,)
        Log importance weights.  A forward run estimates log(Z / Z_base)
        by their log-mean-exp, a reverse run log(Z_base / Z).
    log_z_base : float
        Exact log Z of the base model at beta = 0.
    samples : ndarray, shape (n_chains, n_visible)
        Final visible states: approximate model samples after a forward
        run, approximate base samples after a reverse run.
    """

    log_z: float
    std_error: float
    log_weights: np.ndarray
    log_z_base: float
    samples: np.ndarray


def ais(rbm, n_chains=100, n_betas=None, betas=None, base=None, data=None, seed=0,
        progress=False, n_threads=None):
    """Estimate log Z by annealed importance sampling from a base model.

    The chains anneal from the base model at beta = 0 to the RBM at
    beta = 1 along the path of joint energies

        E_beta(v, h) = (1 - beta) (U_v^base(v) + U_h^base(h)) + beta E(v, h),

    the scheme of Salakhutdinov and Murray ("On the quantitative analysis
    of deep belief networks", ICML 2008).  U_v^base is the potential of an
    independent-site visible layer, and U_h^base that of the hidden layer
    with its fields set to zero.  Each beta is a temporary RBM with weights
    beta W, visible parameters (1 - beta) base + beta model (theta, and
    gamma for Gaussian units) and hidden fields beta theta_h.  Binary and
    Spin hidden units are then uniform at beta = 0.  Real-valued hidden
    units (Gaussian, ReLU, dReLU) keep their precisions at every beta,
    because beta gamma_h would make the beta = 0 model improper.  With F_k the free energy at beta_k,
    each chain starts from an exact base sample v and accumulates the log
    weight F_{k-1}(v) - F_k(v) before one block-Gibbs sweep at beta_k.
    log Z is estimated by log Z_base + log(mean(exp(log_weights))).

    Parameters
    ----------
    rbm : RBM
        Model of any layer types.  A Gaussian-Gaussian model must have a
        positive definite joint precision (see `log_partition_gaussian`),
        or ValueError is raised.
    n_chains : int, default 100
        Number of independent annealing chains.
    n_betas : int, optional
        Number of equally spaced inverse temperatures from 0 to 1, at
        least 2.  The default is 1000 when `betas` is not given.
    betas : array_like of float, shape (K,), optional
        Inverse temperatures, non-decreasing from exactly 0 to exactly 1.
    base : rbmfast.layers.Layer, optional
        Visible base layer of the same type and number of units as
        ``rbm.visible``.  Its parameters define U_v^base.  By default it is
        fitted to `data` (``Layer.init_from_data``), or without data it is
        the visible layer with zero fields (Gaussian units keep gamma_v).
    data : array_like, shape (n_samples, n_visible), optional
        Visible states to fit the base layer to, used only when `base` is
        None.  A base close to the data marginals gives much less variable
        weights than zero fields.
    seed : int, default 0
        Seed of the stream.  A seed gives the same result for any number
        of threads.
    progress : bool, default False
        Show a tqdm progress bar over the inverse temperatures.
    n_threads : int, optional
        Threads of the Gibbs and free-energy kernels.

    Returns
    -------
    AISResult
        The estimate, its standard error and the log weights.

    Notes
    -----
    The weights are unbiased for Z / Z_base, so by Jensen's inequality the
    estimate of log Z is too low in expectation (a stochastic lower bound),
    by about std_error^2 / 2 when the weights are well behaved.
    """
    rbm = _check_rbm(rbm)
    _check_normalisable(rbm)
    n_chains = _check_count(n_chains, "n_chains")
    betas = _schedule(n_betas, betas)
    if data is not None:
        data = rbm.visible.check_states(data, "data")
    base = _base_layer(rbm, base, data)
    log_z_base = _log_partition_base(rbm, base)

    stream = Stream.from_seed(seed, _AIS_SPAWN_KEY)
    start_model = _annealed_rbm(rbm, base, 0.0)
    v = start_model.sample_independent_visible(n_chains, stream, n_threads)
    log_weights, v = _anneal(rbm, base, betas, v, stream, progress, n_threads)
    log_mean, std_error = _log_mean_exp(log_weights)
    return AISResult(log_z=log_z_base + log_mean, std_error=std_error,
                     log_weights=log_weights, log_z_base=log_z_base, samples=v)


def reverse_ais(rbm, data, n_betas=None, betas=None, base=None, seed=0,
                progress=False, n_threads=None):
    """Estimate log Z by annealing from visible states down to the base model.

    The path is the one of `ais`, run from beta = 1 to beta = 0 with one
    chain per row of `data`.  The weights are then unbiased for
    Z_base / Z, so log Z is estimated by
    log Z_base - log(mean(exp(log_weights))).

    Parameters
    ----------
    rbm : RBM
        Model of any layer types.
    data : array_like, shape (n_chains, n_visible)
        Starting visible states, one chain each.  They should be samples of
        the model (for example the end of long Gibbs chains).  Data points
        of a well-trained model are a cheaper approximation.
    n_betas, betas, seed, progress, n_threads
        As in `ais`.  `betas` is given in increasing order, 0 to 1, and run
        backwards.
    base : rbmfast.layers.Layer, optional
        Visible base layer, as in `ais`.  By default it is fitted to `data`.

    Returns
    -------
    AISResult
        The estimate, its delta-method standard error and the log weights
        (whose log-mean-exp estimates log(Z_base / Z)).

    Notes
    -----
    When the starting states are exact model samples, the estimate of log Z
    is too high in expectation (a stochastic upper bound, by Jensen's
    inequality), so a forward and a reverse run bracket log Z.

    NOTE: the upper bound holds only for exact model samples.  Data points
    that the model fits poorly bias the estimate in a direction that
    depends on the model.
    """
    rbm = _check_rbm(rbm)
    _check_normalisable(rbm)
    betas = _schedule(n_betas, betas)
    data = rbm.visible.check_states(data, "data")
    base = _base_layer(rbm, base, data)
    log_z_base = _log_partition_base(rbm, base)

    stream = Stream.from_seed(seed, _AIS_SPAWN_KEY)
    log_weights, v = _anneal(rbm, base, betas[::-1], data.copy(), stream, progress,
                             n_threads)
    log_mean, std_error = _log_mean_exp(log_weights)
    return AISResult(log_z=log_z_base - log_mean, std_error=std_error,
                     log_weights=log_weights, log_z_base=log_z_base, samples=v)


def _anneal(rbm, base, betas, v, stream, progress, n_threads):
    """Run chains `v` through `betas` and return (log_weights, final states).

    The log weight of a chain is the sum over k of F_{k-1}(v) - F_k(v), taken
    before the sweep at beta_k.  No sweep follows the last beta because it
    would not change the weights.
    """
    v = np.array(rbm.visible.check_states(v, "AIS chains"))
    h = np.zeros((v.shape[0], rbm.n_hidden), dtype=rbm.dtype)
    log_weights = np.zeros(v.shape[0])
    previous = _annealed_rbm(rbm, base, betas[0])
    previous_free = previous.free_energy(v, n_threads)
    scratch = previous.gibbs_scratch(v.shape[0])
    bar = _progress_bar(progress, len(betas) - 1)
    for k in range(1, len(betas)):
        model = _annealed_rbm(rbm, base, betas[k])
        log_weights += previous_free - model.free_energy(v, n_threads)
        if k < len(betas) - 1:
            model.gibbs_inplace(v, h, stream, 1, n_threads=n_threads,
                                scratch=scratch)
            previous_free = model.free_energy(v, n_threads)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return log_weights, v


def _annealed_rbm(rbm, base, beta):
    """Return the RBM of energy (1 - beta) E_base + beta E, see `ais`."""
    beta = float(beta)
    visible_params = {
        name: (1.0 - beta) * getattr(base, name).astype(np.float64)
        + beta * getattr(rbm.visible, name).astype(np.float64)
        for name in rbm.visible.param_names
    }
    hidden_params = _hidden_base_params(rbm.hidden)
    for name in rbm.hidden.field_names:
        hidden_params[name] = beta * getattr(rbm.hidden, name).astype(np.float64)
    visible = type(rbm.visible)(rbm.n_visible, dtype=rbm.dtype, **visible_params)
    hidden = type(rbm.hidden)(rbm.n_hidden, dtype=rbm.dtype, **hidden_params)
    return RBM(visible, hidden, beta * rbm.weights.astype(np.float64))


def _hidden_base_params(hidden):
    """Return the hidden base parameters: zero fields, precisions kept."""
    params = {name: np.zeros(hidden.n) for name in hidden.field_names}
    for name in hidden.precision_names:
        params[name] = getattr(hidden, name).astype(np.float64)
    return params


def _log_partition_base(rbm, base):
    """Return log Z at beta = 0: the sum of both base layers' cgf at zero input."""
    visible_base = base.astype(np.float64)
    hidden = type(rbm.hidden)(rbm.n_hidden, dtype=np.float64,
                              **_hidden_base_params(rbm.hidden))
    log_z = visible_base.cgf(np.zeros((1, rbm.visible.n_flat)))[0]
    log_z += hidden.cgf(np.zeros((1, rbm.n_hidden)))[0]
    return float(log_z)


def _base_layer(rbm, base, data):
    if base is None:
        base = rbm.visible.copy()
        if data is not None:
            base.init_from_data(data)
        else:
            base.theta = np.zeros_like(base.theta)
        return base
    if not isinstance(base, Layer):
        raise TypeError(
            f"base must be an rbmfast.layers.Layer, got {type(base).__name__}"
        )
    if type(base) is not type(rbm.visible) or base.n != rbm.n_visible:
        raise ValueError(
            f"base must be a {type(rbm.visible).__name__} layer of "
            f"{rbm.n_visible} units like the visible layer, got "
            f"{type(base).__name__}({base.n})"
        )
    return base.astype(rbm.dtype)


def _schedule(n_betas, betas):
    """Return the inverse temperatures as a float64 array, 0 to 1."""
    if betas is None:
        n_betas = _DEFAULT_N_BETAS if n_betas is None else n_betas
        n_betas = _check_count(n_betas, "n_betas")
        if n_betas < 2:
            raise ValueError(f"n_betas must be at least 2 (0 and 1), got {n_betas}")
        return np.linspace(0.0, 1.0, n_betas)
    if n_betas is not None:
        raise TypeError("give n_betas or betas, not both")
    schedule = np.asarray(betas, dtype=np.float64)
    if schedule.ndim != 1 or schedule.size < 2:
        raise ValueError(
            f"betas must be a 1-D array of at least 2 values, got shape "
            f"{schedule.shape}"
        )
    if not np.isfinite(schedule).all():
        raise ValueError("betas contain non-finite values")
    if schedule[0] != 0.0 or schedule[-1] != 1.0:
        raise ValueError(
            f"betas must start at 0 and end at 1, got {schedule[0]} and "
            f"{schedule[-1]}"
        )
    decreasing = np.flatnonzero(np.diff(schedule) < 0)
    if decreasing.size:
        i = decreasing[0]
        raise ValueError(
            f"betas must be non-decreasing, got {schedule[i]} then "
            f"{schedule[i + 1]} at positions {i} and {i + 1}"
        )
    return schedule


def _log_mean_exp(log_weights):
    """Return log(mean(w)) and its delta-method standard error."""
    n = log_weights.size
    log_mean = logsumexp(log_weights) - np.log(n)
    if n < 2:
        return float(log_mean), float("nan")
    # w / mean(w) is exp(log_weights - log_mean), without overflow.
    relative = np.exp(log_weights - log_mean)
    std_error = np.std(relative, ddof=1) / np.sqrt(n)
    return float(log_mean), float(std_error)


def _check_rbm(rbm):
    if not isinstance(rbm, RBM):
        raise TypeError(f"rbm must be an rbmfast.RBM, got {type(rbm).__name__}")
    return rbm


def _check_normalisable(rbm):
    """Raise ValueError for a Gaussian-Gaussian RBM whose Z diverges."""
    if isinstance(rbm.visible, Gaussian) and isinstance(rbm.hidden, Gaussian):
        _cholesky(_joint_precision(rbm), raise_indefinite=True)


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _progress_bar(progress, total):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="beta", dynamic_ncols=True)
