"""The report of a 2D Ising run with the temperature as the label.

The spins' distribution at zero field is symmetric under s -> -s, so every
hidden input I = v W has a class mean near 0 at all temperatures, and the
temperature shows in the spread of I instead: a free unit along the
magnetisation has a wide, two-peaked input below T_c and a narrow one
above.  The report therefore measures

- the free units' input distribution by temperature (standard deviation,
  mean |I|, histograms, a quadratic read-out of the temperature and the
  mutual information);
- the constrained units' class-conditional input variances across
  temperatures and their spread (max - min) / mean.  The tolerance is the
  95th percentile of the same spread after shuffling the held-out
  temperatures, the spread that sampling noise alone gives;
- samples drawn with the free units clamped to each temperature's typical
  value, with their energy and |magnetisation| per spin against the
  simulated values and Onsager's exact curves, and against -2 m^2, the
  energy of independent spins with the same magnetisation;
- the cost of the constraint: held-out log-likelihood of the run's model
  against an unconstrained one trained with the same settings.

NOTE: with the penalty strong enough to equalise the variances, the clamped
samples follow |m| but not the simulated energy.  Their energy stays near
-2 m^2, because units whose input variances do not depend on T cannot
carry the nearest-neighbour couplings (docs/design_notes.md).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from rbmfast import plots, plots_ising
from rbmfast._kernels import _ising
from rbmfast.datasets.ising import exact_energy_per_spin, exact_magnetisation
from rbmfast.evaluation.empirical_cost import (evaluate_model,
                                               log_likelihood_difference,
                                               train_and_evaluate)
from rbmfast.evaluation.likelihood import held_out_log_likelihood
from rbmfast.evaluation.metrics import (class_conditional_moments,
                                        mutual_information, variance_spread)
from rbmfast.evaluation.pseudolikelihood import pseudolikelihood
from rbmfast.evaluation.readout import SoftmaxReadout
from rbmfast.evaluation.sampling import sample_clamped
from rbmfast.random import Stream, seed_sequence
from rbmfast.report import disentanglement_metrics, write_json

__all__ = ["clamped_sample_summary", "clamped_values", "constrained_variance_statistics",
           "free_unit_statistics", "independent_spin_energy", "ising_clamped_generation",
           "write_ising_report"]

# Percentile of the shuffled-label spreads that is the tolerance of a unit.
TOLERANCE_PERCENTILE = 95.0
# Spawn keys of this module's random numbers: label shuffles and clamped
# sampling.  They differ from training (0, 1, 2), AIS (3, 4) and the
# Ising simulation (3 with children).
_SHUFFLE_SPAWN_KEY = 11
_CLAMP_SPAWN_KEY = 12
# Clamped samples per temperature shown in clamped_samples.png.
_SHOWN_SAMPLES = 10
# Clamped values from 0 to the largest class value in the sweep.
_SWEEP_POINTS = 6


def free_unit_statistics(rbm, constraints, train, test, temperatures):
    """Describe how the free units' inputs depend on the temperature.

    Returns a dict with, per free unit, the held-out mean, standard
    deviation and mean |I| at each temperature and the histogram mutual
    information with the temperature (nats, at most log K).  ``readout``
    gives the test accuracy of a softmax read-out of the temperature index
    from the features (I, I^2) of the free units, and the same for the
    constrained units.  Each comes with the fraction of test samples placed
    within one temperature step and the majority rate.
    """
    (x, y), (xt, yt) = train, test
    inputs, inputs_test = rbm.inputs_h_from_v(x), rbm.inputs_h_from_v(xt)
    free = constraints.free_units
    units = []
    for unit in free:
        column = inputs_test[:, unit].astype(np.float64)
        per_temperature = [column[yt == k] for k in range(len(temperatures))]
        units.append({
            "unit": int(unit),
            "mean": [float(c.mean()) for c in per_temperature],
            "std": [float(c.std()) for c in per_temperature],
            "mean_abs": [float(np.abs(c).mean()) for c in per_temperature],
            "mutual_information_nats": float(mutual_information(
                column[:, None], yt, method="histogram")[0]),
        })
    readout = {}
    for name, group in (("free", free), ("constrained", constraints.constrained_units)):
        if group.size:
            readout[name] = _quadratic_readout(inputs[:, group], y,
                                               inputs_test[:, group], yt)
    return {"temperatures": list(map(float, temperatures)), "units": units,
            "max_mutual_information_nats": float(np.log(len(temperatures))),
            "readout": readout}


def _quadratic_readout(features, labels, features_test, labels_test):
    """Fit a softmax read-out on (I, I^2) and score it on held-out data."""
    def expand(inputs):
        inputs = inputs.astype(np.float64)
        return np.concatenate([inputs, inputs**2], axis=1)

    # 99 units give 198 features, which need more than the default 500
    # iterations (about 25 s either way on 32,500 samples)
    readout = SoftmaxReadout(max_iter=3000).fit(expand(features), labels)
    predicted = readout.predict(expand(features_test))
    majority = np.bincount(labels).argmax()
    return {"accuracy": float(np.mean(predicted == labels_test)),
            "within_one_temperature": float(np.mean(np.abs(predicted - labels_test)
                                                    <= 1)),
            "majority_rate": float(np.mean(labels_test == majority)),
            "features": "I and I^2 of each unit"}


def constrained_variance_statistics(rbm, constraints, train, test, temperatures,
                                    n_permutations=200, seed=0):
    """Measure how far the constrained units' input variances depend on T.

    The spread of a unit is (max_T Var(I | T) - min_T Var(I | T)) / mean_T,
    `rbmfast.evaluation.metrics.variance_spread`.  Its tolerance is the
    `TOLERANCE_PERCENTILE` percentile of the held-out spread over
    `n_permutations` shuffles of the held-out temperatures: a unit passes
    when its held-out spread is below it, so its variances differ by no more
    than sampling noise.  Samples of one chain are correlated, which makes
    the real noise somewhat larger than the shuffles show, so the check is
    strict.

    Returns
    -------
    dict
        ``variances_test`` and ``variances_train`` (K x G lists),
        ``spread_train``, ``spread_test``, ``tolerance`` and ``passed`` per
        unit, the free units' spreads, and a ``summary``.
    """
    (x, y), (xt, yt) = train, test
    units = constraints.constrained_units
    free = constraints.free_units
    if units.size == 0:
        # every hidden unit is free: nothing to equalise
        return {"temperatures": list(map(float, temperatures)), "units": [],
                "free_units": free.tolist(), "summary": None}
    inputs = rbm.inputs_h_from_v(x)
    inputs_test = rbm.inputs_h_from_v(xt)
    train_moments = class_conditional_moments(inputs[:, units], y)
    test_moments = class_conditional_moments(inputs_test[:, units], yt)
    spread_train = variance_spread(inputs[:, units], y)
    spread_test = variance_spread(inputs_test[:, units], yt)
    rng = np.random.default_rng(seed_sequence(seed, _SHUFFLE_SPAWN_KEY))
    shuffled = np.stack([variance_spread(inputs_test[:, units], rng.permutation(yt))
                         for _ in range(n_permutations)])
    tolerance = np.percentile(shuffled, TOLERANCE_PERCENTILE, axis=0)
    passed = spread_test <= tolerance
    free_spread_test = variance_spread(inputs_test[:, free], yt)
    pooled = {name: _pooled_spread(moments["variances"]) for name, moments in
              (("train", train_moments), ("test", test_moments))}
    return {
        "temperatures": list(map(float, temperatures)),
        "units": units.tolist(),
        "variances_train": train_moments["variances"].tolist(),
        "variances_test": test_moments["variances"].tolist(),
        "spread_train": spread_train.tolist(),
        "spread_test": spread_test.tolist(),
        "tolerance": tolerance.tolist(),
        "passed": passed.tolist(),
        "free_units": free.tolist(),
        "free_spread_train": variance_spread(inputs[:, free], y).tolist(),
        "free_spread_test": free_spread_test.tolist(),
        "free_variances_test": class_conditional_moments(
            inputs_test[:, free], yt)["variances"].tolist(),
        "summary": {
            "spread_train_median": float(np.median(spread_train)),
            "spread_train_max": float(spread_train.max()),
            "spread_test_median": float(np.median(spread_test)),
            "spread_test_max": float(spread_test.max()),
            "spread_train_pooled": pooled["train"],
            "spread_test_pooled": pooled["test"],
            "tolerance_median": float(np.median(tolerance)),
            "fraction_passed": float(passed.mean()),
            "free_spread_test_min": (float(free_spread_test.min())
                                     if free.size else None),
            # held-out input standard deviations, all temperatures together:
            # constrained units far below the free ones hardly act on v
            "input_std_constrained_median": float(np.median(
                inputs_test[:, units].std(axis=0))),
            "input_std_free": inputs_test[:, free].std(axis=0).tolist(),
            "tolerance_rule": f"held-out spread <= {TOLERANCE_PERCENTILE:g}th "
                              f"percentile of {n_permutations} spreads with "
                              "shuffled temperatures",
        },
    }


def _pooled_spread(variances):
    """Return sum over units of (max - min) / sum of means over temperatures.

    A unit with inputs near 0 can have a large relative spread although it
    hardly acts in the model.  The pooled spread weights each unit by its
    variance instead.
    """
    variances = np.asarray(variances)
    total = variances.mean(axis=0).sum()
    return float((variances.max(axis=0) - variances.min(axis=0)).sum() / total) \
        if total > 0 else 0.0


def clamped_values(rbm, free_units, x, y, n_classes, n_threads=None):
    """Return each temperature's clamped value of the free units, (K, F).

    The value of class k is the class mean of E[h_free | v] with every
    configuration taken in the global orientation (v or -v) that makes the
    first free unit's input >= 0.  Without that choice the two orientations,
    which are equally likely at zero field, would average to about 0.
    """
    free_units = np.asarray(free_units)
    if free_units.size == 0:
        return np.zeros((n_classes, 0))
    inputs = rbm.inputs_h_from_v(x)[:, free_units[0]]
    oriented = np.where((inputs >= 0)[:, None], x, -x)
    means = rbm.mean_h_from_v(oriented, n_threads)[:, free_units].astype(np.float64)
    return np.stack([means[y == k].mean(axis=0) for k in range(n_classes)])


def ising_clamped_generation(rbm, constraints, train, test, temperatures,
                             n_per_class=100, n_steps=500, seed=0, n_threads=None,
                             sweep=True):
    """Sample with the free units clamped to each temperature's value.

    With `sweep` False the samples at evenly spaced values are skipped and
    ``sweep`` is None.

    Returns
    -------
    metrics : dict
        Per temperature: the clamped values, the mean and standard
        deviation of the samples' energy and |magnetisation| per spin, the
        simulated means of the data (training and held-out configurations)
        and Onsager's values, and in ``summary`` the mean absolute
        differences between samples and data.  ``sweep`` gives the mean
        energy and |magnetisation| of samples at clamped values evenly
        spaced from 0 to the largest class value.
    samples : ndarray, shape (K * n_per_class, L^2)
        The samples, temperature by temperature.
    """
    (x, y), (xt, yt) = train, test
    L = int(round(np.sqrt(rbm.n_visible)))
    n_classes = len(temperatures)
    free = constraints.free_units
    values = clamped_values(rbm, free, x, y, n_classes, n_threads)
    stream = Stream.from_seed(seed, _CLAMP_SPAWN_KEY)
    samples, energy, abs_m = [], [], []
    for k in range(n_classes):
        v = sample_clamped(rbm, stream, free, values[k], n_samples=n_per_class,
                           n_steps=n_steps, n_threads=n_threads)
        e, m = _observables(v, L)
        samples.append(v)
        energy.append(e)
        abs_m.append(np.abs(m))
    if sweep:
        sweep = _clamped_sweep(rbm, stream, free, values, L, n_per_class, n_steps,
                               n_threads)
    else:
        sweep = None
    data = np.concatenate([x, xt])
    labels = np.concatenate([y, yt])
    data_energy, data_m = _observables(data, L)
    simulated_energy = [float(data_energy[labels == k].mean()) for k in range(n_classes)]
    simulated_m = [float(np.abs(data_m[labels == k]).mean()) for k in range(n_classes)]
    simulated_independent = [independent_spin_energy(data_m[labels == k])
                             for k in range(n_classes)]
    clamped = {
        "energy": [float(e.mean()) for e in energy],
        "energy_std": [float(e.std()) for e in energy],
        "abs_magnetisation": [float(m.mean()) for m in abs_m],
        "abs_magnetisation_std": [float(m.std()) for m in abs_m],
        "independent_spin_energy": [independent_spin_energy(m) for m in abs_m],
    }
    metrics = {
        "temperatures": list(map(float, temperatures)),
        "clamped_values": values.tolist(),
        "n_per_class": n_per_class, "n_steps": n_steps,
        "clamped": clamped,
        "sweep": sweep,
        "simulated": {"energy": simulated_energy, "abs_magnetisation": simulated_m,
                      "independent_spin_energy": simulated_independent},
        "onsager": {"energy": exact_energy_per_spin(temperatures).tolist(),
                    "abs_magnetisation": exact_magnetisation(temperatures).tolist()},
        "summary": {
            "energy_mean_abs_difference": float(np.mean(np.abs(
                np.subtract(clamped["energy"], simulated_energy)))),
            "abs_magnetisation_mean_abs_difference": float(np.mean(np.abs(
                np.subtract(clamped["abs_magnetisation"], simulated_m)))),
            # energy below that of independent spins with the same |m|: the
            # nearest-neighbour correlation beyond the magnetisation
            "correlation_energy_clamped": _mean_difference(
                clamped["energy"], clamped["independent_spin_energy"]),
            "correlation_energy_simulated": _mean_difference(
                simulated_energy, simulated_independent),
        },
    }
    return metrics, np.concatenate(samples)


def _clamped_sweep(rbm, stream, free, values, L, n_per_class, n_steps, n_threads):
    """Sample at values from 0 to the largest class value: what the knob does."""
    largest = values[np.argmax(np.linalg.norm(values, axis=1))]
    sweep_values = np.linspace(0.0, 1.0, _SWEEP_POINTS)[:, None] * largest
    sweep = {"values": sweep_values.tolist(), "energy": [], "abs_magnetisation": []}
    for value in sweep_values:
        v = sample_clamped(rbm, stream, free, value, n_samples=n_per_class,
                           n_steps=n_steps, n_threads=n_threads)
        e, m = _observables(v, L)
        sweep["energy"].append(float(e.mean()))
        sweep["abs_magnetisation"].append(float(np.abs(m).mean()))
    return sweep


def clamped_sample_summary(rbm, constraints, train, test, temperatures,
                           n_per_class=100, n_steps=500, seed=0, n_threads=None):
    """Return the clamped-sample energies and |m| of a model, or None.

    The `extra` measurement of ``rbmfast cost`` on Ising data: the
    ``clamped`` and ``simulated`` means and the ``summary`` of
    `ising_clamped_generation`, and the held-out variance spreads of
    `constrained_variance_statistics` (``spread_test_median``,
    ``spread_test_pooled``, ``fraction_passed`` and
    ``input_std_constrained_median``).  None when the model has no free
    units to clamp.
    """
    if constraints is None or constraints.free_units.size == 0:
        return None
    # the sweep of clamped values is only drawn in the report's figure
    generation, _ = ising_clamped_generation(rbm, constraints, train, test,
                                             temperatures, n_per_class, n_steps,
                                             seed, n_threads, sweep=False)
    out = {key: generation[key] for key in ("clamped", "simulated", "summary")}
    if constraints.constrained_units.size:
        summary = constrained_variance_statistics(rbm, constraints, train, test,
                                                  temperatures, seed=seed)["summary"]
        out["variance_spread"] = {key: summary[key] for key in (
            "spread_test_median", "spread_test_pooled", "fraction_passed",
            "input_std_constrained_median")}
    return out


def independent_spin_energy(magnetisation):
    """Return -2 <m^2>, the energy per spin of independent spins with these m.

    Spins drawn independently with mean m have <s_i s_j> = m^2 for each of
    the 2 bonds per spin of the square lattice, so their mean energy per
    spin at J = 1 and zero field is -2 m^2, averaged over the given
    magnetisations per spin.  Over lattices of N spins the average of m^2
    also contains the variance of m, about (1 - m^2) / N.
    """
    m = np.asarray(magnetisation, dtype=np.float64)
    return float(-2.0 * np.mean(m * m))


def _mean_difference(a, b):
    return float(np.mean(np.subtract(a, b)))


def _observables(v, L):
    """Return energy and magnetisation per spin of spin rows v (n, L^2), h = 0."""
    spins = np.ascontiguousarray(np.asarray(v).reshape(-1, L, L), dtype=np.int8)
    return _ising.observables(spins, 0.0)


def constraint_cost(rbm, constraints, config, train, test, likelihood=None,
                    ais_check=True):
    """Compare the run's held-out log-likelihood with an unconstrained run's.

    The unconstrained model is trained from `config` with n_free = None and
    lambda_Q = 0, so it shares the seed, the initial weights and the
    minibatch order.  With `ais_check` and an exact log Z, AIS and reverse
    AIS of the run's model are reported too, as a check of the estimator.
    """
    (x, y), (xt, yt) = train, test
    constrained = evaluate_model(rbm, constraints, config, x, y, xt, yt, likelihood)
    reference_config = dataclasses.replace(config, n_free=None, lambda_Q=0.0,
                                           Q_rank=None)
    reference = train_and_evaluate(reference_config, x, y, xt, yt,
                                   likelihood=likelihood)
    difference = log_likelihood_difference(constrained, reference, rbm.n_visible)
    for result in (constrained, reference):
        result.pop("per_sample_log_likelihood")
    out = {"constrained": constrained, "unconstrained": reference,
           "difference": difference}
    if ais_check and constrained["log_likelihood"]["method"] == "exact":
        options = {k: v for k, v in (likelihood or {}).items()
                   if k not in ("method", "max_states")}
        start = time.perf_counter()
        check = held_out_log_likelihood(rbm, xt, base_data=x, method="ais",
                                        n_threads=config.n_threads, **options)
        check["seconds"] = time.perf_counter() - start
        out["ais_check"] = check
    return out


def write_ising_report(out_dir, rbm, constraints, train, test, temperatures, config,
                       history=None, settings=None, n_per_class=100, n_steps=500,
                       cost=True, likelihood=None, n_threads=None):
    """Compute the Ising report and write ``metrics.json`` and figures to out_dir.

    Parameters
    ----------
    train, test : tuple (x, y)
        Spins (n, L^2) and temperature indices.
    temperatures : sequence of float
        Temperature of each index.
    config : TrainConfig
        Settings of the run, for the unconstrained comparison model.
    cost : bool
        Train the unconstrained model and compare log-likelihoods.
    likelihood : dict, optional
        Options of `held_out_log_likelihood`.

    Returns the metrics dict.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    temperatures = np.asarray(temperatures, dtype=np.float64)
    (x, y), (xt, yt) = train, test
    L = int(round(np.sqrt(rbm.n_visible)))
    names = [f"T = {t:.3f}" for t in temperatures]
    metrics = {"settings": settings or {}}
    generic = disentanglement_metrics(rbm, constraints, train, test, seed=config.seed)
    # The generic read-outs are linear in I and every class mean of I is
    # near 0 here, so they are at chance.  The temperature read-out from
    # (I, I^2) is free_units_by_temperature["readout"].
    for name in ("readout", "readout_subsample"):
        if name in generic:
            generic[f"linear_{name}"] = generic.pop(name)
    generic["linear_readout_note"] = (
        "linear in the inputs I, so at chance on spin-flip symmetric data; see "
        "free_units_by_temperature.readout for the read-out from (I, I^2)")
    metrics.update(generic)
    metrics["pseudolikelihood_per_site_test"] = float(
        pseudolikelihood(rbm, xt[:1000]).mean())
    free = constraints.free_units
    # Without free units nothing carries the temperature and nothing can be
    # clamped: the free-unit statistics and the clamped samples are None.
    metrics["free_units_by_temperature"] = None
    if free.size:
        metrics["free_units_by_temperature"] = free_unit_statistics(
            rbm, constraints, train, test, temperatures)
    variances = constrained_variance_statistics(rbm, constraints, train, test,
                                                temperatures, seed=config.seed)
    metrics["constrained_variances"] = variances
    generation, samples = None, None
    if free.size:
        generation, samples = ising_clamped_generation(
            rbm, constraints, train, test, temperatures, n_per_class, n_steps,
            config.seed, n_threads)
    metrics["clamped_generation"] = generation
    if cost:
        metrics["cost"] = constraint_cost(rbm, constraints, config, train, test,
                                          likelihood)

    figures = _input_figures(rbm, constraints, test, names, variances, temperatures,
                             out_dir)
    if generation is not None:
        figures.update(_clamped_figures(generation, samples, temperatures, names,
                                        n_per_class, L, out_dir))
    if history:
        keys = [k for k in history[0] if k not in ("epoch", "update")]
        series = {k: [h.get(k) for h in history] for k in ["epoch"] + keys}
        figures["training"] = plots.plot_training_curves(series,
                                                         out_dir / "training.png")
    metrics["figures"] = {k: Path(v).name for k, v in figures.items()}
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def _input_figures(rbm, constraints, test, names, variances, temperatures, out_dir):
    """Plot the hidden inputs by temperature; return the figure paths by name."""
    xt, yt = test
    inputs_test = rbm.inputs_h_from_v(xt)
    free = constraints.free_units
    figures = {}
    if free.size:
        figures["input_histograms_free"] = plots.plot_input_histograms(
            inputs_test, yt, free, out_dir / "input_histograms_free.png",
            unit_names=[f"free unit {u}" for u in free], class_names=names,
            title="Inputs of the free units by temperature (held-out data)")
    shown = constraints.constrained_units[:12]
    if shown.size:
        figures["input_histograms_constrained"] = plots.plot_input_histograms(
            inputs_test, yt, shown, out_dir / "input_histograms_constrained.png",
            unit_names=[f"unit {u}" for u in shown], class_names=names,
            title="Inputs of constrained units by temperature (held-out data)")
        figures["constrained_variances"] = plots_ising.plot_variances_by_temperature(
            temperatures, variances["variances_test"],
            variances["free_variances_test"], out_dir / "constrained_variances.png",
            tolerance=variances["summary"]["tolerance_median"],
            title="Class-conditional input variances (held-out data)")
    return figures


def _clamped_figures(generation, samples, temperatures, names, n_per_class, L,
                     out_dir):
    """Plot and save the clamped samples; return the figure paths by name."""
    figures = {}
    figures["clamped_observables"] = plots_ising.plot_clamped_observables(
        temperatures, generation["simulated"], generation["clamped"],
        out_dir / "clamped_observables.png", sweep=generation["sweep"],
        title=f"Samples with the free units clamped, L = {L}")
    n_show = min(_SHOWN_SAMPLES, n_per_class)
    grid = np.concatenate([samples[k * n_per_class:k * n_per_class + n_show]
                           for k in range(len(temperatures))])
    figures["clamped_samples"] = plots.plot_image_grid(
        (grid + 1) / 2, out_dir / "clamped_samples.png", (L, L),
        n_rows=len(temperatures), row_labels=names,
        title="Samples with the free units clamped to each temperature's value")
    np.save(out_dir / "clamped_samples.npy", samples)
    return figures
