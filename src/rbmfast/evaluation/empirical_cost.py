"""Measured cost of disentanglement: held-out log-likelihood with and without
constraints.

`empirical_cost` trains one unconstrained RBM and one constrained RBM per
setting (number of free units, lambda_Q), all from the same TrainConfig
otherwise, so they share the seed, the initial weights and the minibatch
order.  Each model's mean log-likelihood on held-out data comes from
`rbmfast.evaluation.likelihood.held_out_log_likelihood`: exact when the
smaller discrete layer can be enumerated, the closed form for Gaussian
models, and AIS with reverse AIS otherwise.  The cost of a setting is the
unconstrained log-likelihood minus the constrained one.

Every setting is a call of `train_and_evaluate` on plain values (a
TrainConfig and arrays), so the settings can run in other processes through
the `map_function` argument, for example
``concurrent.futures.ProcessPoolExecutor().map``.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import time

import numpy as np

from rbmfast.config import TrainConfig
from rbmfast.constraints import check_second_order_size
from rbmfast.evaluation.likelihood import held_out_log_likelihood, log_likelihood
from rbmfast.evaluation.metrics import variance_spread
from rbmfast.labels import encode_labels
from rbmfast.training import train

__all__ = ["cost_configs", "empirical_cost", "evaluate_model",
           "log_likelihood_difference", "train_and_evaluate"]

#: keyword arguments of held_out_log_likelihood that `likelihood` may set
LIKELIHOOD_OPTIONS = ("method", "max_states", "n_chains", "n_betas", "reverse",
                      "n_reverse_sweeps", "seed")


def cost_configs(config, n_free, lambda_Q, n_classes=None, n_visible=None):
    """Return the unconstrained config, then one config per (n_free, lambda_Q).

    Each constrained config is `config` with that number of free units and
    that lambda_Q, and `Q_rank` only where lambda_Q > 0.  The unconstrained
    one has n_free = None and lambda_Q = 0.  Every config is validated, and
    with `n_classes` and `n_visible` the size of full Q matrices is checked
    too, so a bad setting raises before any training.

    Raises
    ------
    ValueError
        If a list is empty or has repeats, a value is invalid, or a config
        fails `TrainConfig.validate`; the message names the value.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    free_counts = _values("n_free", n_free, _check_free_count)
    strengths = _values("lambda_Q", lambda_Q, _check_strength)
    base = dataclasses.replace(config, n_free=None, lambda_Q=0.0, Q_rank=None)
    base.validate()
    configs = [base]
    for count in free_counts:
        for strength in strengths:
            rank = config.Q_rank if strength > 0 else None
            setting = dataclasses.replace(config, n_free=count, lambda_Q=strength,
                                          Q_rank=rank)
            setting.validate()
            if strength > 0 and n_classes is not None and n_visible is not None:
                check_second_order_size(n_visible, n_classes - 1, rank,
                                        relative_Q=config.relative_Q)
            configs.append(setting)
    return configs


def train_and_evaluate(config, data, labels, test_data, test_labels=None,
                       weights=None, likelihood=None, extra=None):
    """Train one RBM and measure its held-out log-likelihood.

    Parameters
    ----------
    config : TrainConfig
        n_free None trains without constraints.
    data, labels, weights
        Training states, labels and optional sample weights, as in
        `rbmfast.train`.  The training states are also the AIS base data.
    test_data : ndarray, shape (n_test, n_visible)
        Held-out states.
    test_labels : array_like, shape (n_test,), optional
        Labels of the held-out states, for the variance spreads.
    likelihood : dict, optional
        Keyword arguments of `held_out_log_likelihood` (method, max_states,
        n_chains, n_betas, reverse, n_reverse_sweeps, seed).
    extra : callable, optional
        Called as ``extra(rbm, constraints)`` after training; a dict it
        returns is stored as ``extra`` in the result, for measurements that
        depend on the data (a module-level function or a functools.partial
        of one, so that a process pool can send it).

    Returns
    -------
    dict
        The result of `evaluate_model`, with ``train_seconds``.
    """
    options = _likelihood_options(likelihood)
    start = time.perf_counter()
    rbm, constraints, _ = train(config, data, labels, weights=weights)
    seconds = time.perf_counter() - start
    result = evaluate_model(rbm, constraints, config, data, labels, test_data,
                            test_labels, options)
    result["train_seconds"] = seconds
    if extra is not None:
        measured = extra(rbm, constraints)
        if measured is not None:
            result["extra"] = measured
    return result


def evaluate_model(rbm, constraints, config, data, labels, test_data,
                   test_labels=None, likelihood=None):
    """Measure a trained RBM's held-out log-likelihood and variance spreads.

    Parameters are those of `train_and_evaluate`, with the trained `rbm` and
    its `constraints` (None without constraints).

    Returns
    -------
    dict
        ``n_free``, ``lambda_Q`` and ``config`` (as a dict).
        ``log_likelihood``: the result of `held_out_log_likelihood`.
        ``constraint_violation`` and ``penalty``, None without constraints.
        ``variance_spread``: median and max over the constrained units and
        the values of the free units, on the training data and, with
        `test_labels`, on the held-out data.  ``per_sample_log_likelihood``:
        an ndarray for `log_likelihood_difference`, which `empirical_cost`
        drops.
    """
    options = _likelihood_options(likelihood)
    result = held_out_log_likelihood(rbm, test_data, base_data=data,
                                     n_threads=config.n_threads, **options)
    spreads = {"train": _spreads(rbm, constraints, data, labels)}
    if test_labels is not None:
        spreads["test"] = _spreads(rbm, constraints, test_data, test_labels)
    return {
        "n_free": config.n_free,
        "lambda_Q": config.lambda_Q,
        "config": config.to_dict(),
        "log_likelihood": result,
        "constraint_violation": (None if constraints is None
                                 else constraints.violation(rbm.weights)),
        "penalty": None if constraints is None else constraints.penalty(rbm.weights),
        "variance_spread": spreads,
        "per_sample_log_likelihood": log_likelihood(rbm, test_data, result["log_z"],
                                                    config.n_threads),
    }


def empirical_cost(config, data, labels, test_data, n_free=(1,), lambda_Q=(0.0,),
                   test_labels=None, weights=None, likelihood=None,
                   map_function=map, extra=None):
    """Measure the held-out log-likelihood lost to each constraint setting.

    Parameters
    ----------
    config : TrainConfig
        Settings shared by every run; its n_free and lambda_Q are replaced.
    data : ndarray, shape (n_samples, n_visible)
    labels : array_like, shape (n_samples,)
        Categorical label that the constraints disentangle.
    test_data : ndarray, shape (n_test, n_visible)
        Held-out states.
    n_free : sequence of int
        Numbers of free hidden units, each in 0..n_hidden.
    lambda_Q : sequence of float
        Second-order penalty strengths, each >= 0.  0 keeps only the
        first-order constraint.  Every pair (n_free, lambda_Q) is trained.
    test_labels : array_like, shape (n_test,), optional
        Held-out labels, for the variance spreads on held-out data.
    weights : ndarray, shape (n_samples,), optional
        Sample weights of the training data.
    likelihood : dict, optional
        Options of `held_out_log_likelihood`, as in `train_and_evaluate`.
    map_function : callable
        Called as ``map_function(function, configs)``, like the builtin map
        (the default), to run the trainings; a process pool's map runs them
        in parallel.
    extra : callable, optional
        Further measurements of every trained model, as in
        `train_and_evaluate`.

    Returns
    -------
    dict
        ``unconstrained``: the `train_and_evaluate` result without
        constraints.  ``constrained``: one result per setting, in the order
        of `n_free`, then `lambda_Q`.  ``differences``, per setting:
        ``delta_log_likelihood``, constrained minus unconstrained in nats
        per sample, so a cost is negative; ``delta_log_likelihood_per_site``;
        ``std_error_log_z`` from the two AIS errors (0 when both log Z are
        exact); ``std_error_data``, paired over the held-out samples.  With
        reverse AIS also ``delta_log_likelihood_reverse`` and
        ``delta_log_likelihood_bounds``, the bracket from the forward
        estimate of one model and the reverse estimate of the other.
        ``n_visible`` and ``n_test``.

    Notes
    -----
    A run is a function of its config and the data, and seeded results do
    not depend on the thread count, so the result does not depend on how
    `map_function` schedules the runs.
    """
    data = np.asarray(data)
    test_data = np.asarray(test_data)
    n_classes = len(encode_labels(labels)[1])
    configs = cost_configs(config, n_free, lambda_Q, n_classes, data.shape[1])
    _likelihood_options(likelihood)
    run = functools.partial(train_and_evaluate, data=data, labels=labels,
                            test_data=test_data, test_labels=test_labels,
                            weights=weights, likelihood=likelihood, extra=extra)
    results = list(map_function(run, configs))
    reference = results[0]
    differences = [log_likelihood_difference(result, reference, data.shape[1])
                   for result in results[1:]]
    for result in results:
        result.pop("per_sample_log_likelihood")
    return {"unconstrained": reference, "constrained": results[1:],
            "differences": differences, "n_visible": int(data.shape[1]),
            "n_test": int(test_data.shape[0])}


def log_likelihood_difference(result, reference, n_visible):
    """Compare two `evaluate_model` results on the same held-out data.

    Returns the ``differences`` entry described in `empirical_cost`.
    """
    ours, theirs = result["log_likelihood"], reference["log_likelihood"]
    delta = ours["log_likelihood"] - theirs["log_likelihood"]
    paired = result["per_sample_log_likelihood"] - reference["per_sample_log_likelihood"]
    out = {
        "n_free": result["n_free"],
        "lambda_Q": result["lambda_Q"],
        "delta_log_likelihood": delta,
        "delta_log_likelihood_per_site": delta / n_visible,
        "std_error_log_z": math.hypot(ours.get("log_z_std_error", 0.0),
                                      theirs.get("log_z_std_error", 0.0)),
        "std_error_data": (float(paired.std(ddof=1) / math.sqrt(paired.size))
                           if paired.size > 1 else math.nan),
    }
    if "log_likelihood_reverse" in ours and "log_likelihood_reverse" in theirs:
        out["delta_log_likelihood_reverse"] = (ours["log_likelihood_reverse"]
                                               - theirs["log_likelihood_reverse"])
        # Forward AIS gives an upper and reverse AIS a lower estimate of each
        # log-likelihood.  Both are stochastic, so for a well-estimated model
        # they can cross, and the pair is sorted.
        out["delta_log_likelihood_bounds"] = sorted([
            ours["log_likelihood_reverse"] - theirs["log_likelihood"],
            ours["log_likelihood"] - theirs["log_likelihood_reverse"]])
    return out


def _spreads(rbm, constraints, data, labels):
    """Return variance spreads of the hidden inputs on (data, labels)."""
    spread = variance_spread(rbm.inputs_h_from_v(data), labels)
    if constraints is None:
        return {"all_median": float(np.median(spread)),
                "all_max": float(spread.max())}
    constrained = spread[constraints.constrained_units]
    out = {"free": spread[constraints.free_units].tolist()}
    if constrained.size:
        out["constrained_median"] = float(np.median(constrained))
        out["constrained_max"] = float(constrained.max())
    return out


def _likelihood_options(likelihood):
    options = dict(likelihood or {})
    unknown = sorted(set(options) - set(LIKELIHOOD_OPTIONS))
    if unknown:
        raise ValueError(f"unknown likelihood options {unknown}; known: "
                         f"{list(LIKELIHOOD_OPTIONS)}")
    return options


def _values(name, values, check):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of values, got {values!r}")
    values = [check(name, value) for value in values]
    if not values:
        raise ValueError(f"{name} must contain at least one value")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{name} contains repeated values {repeated}; give each "
                         "value once")
    return values


def _check_free_count(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} values must be integers, got {value!r}")
    return int(value)


def _check_strength(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} values must be finite numbers >= 0, got {value!r}")
    return float(value)
