"""Training reports: disentanglement metrics as JSON, figures as PNG.

The report measures, on held-out data, how much of the label each group of
hidden units carries.  A softmax read-out of the label is fitted on the
training split to the free units' inputs and, separately, to the
constrained units' inputs, then scored on the test split next to the
majority-class rate.  Per unit it gives the label covariance, correlation
and mutual information of the inputs.  For image data it also draws
samples with the free units clamped to each class's typical value and
labels them with an independent softmax classifier trained on pixels; for
protein alignments it writes the generated sequences as FASTA and checks
them against their nearest natural sequences (rbmfast.report_protein).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from rbmfast import plots
from rbmfast.evaluation.metrics import (input_label_correlation,
                                        max_abs_covariance, mutual_information)
from rbmfast.evaluation.pseudolikelihood import pseudolikelihood, reconstruction_error
from rbmfast.evaluation.readout import SoftmaxReadout, readout_accuracy
from rbmfast.evaluation.sampling import class_typical_values, sample_clamped
from rbmfast.labels import encode_labels
from rbmfast.random import Stream

__all__ = ["disentanglement_metrics", "clamped_generation", "write_report",
           "json_ready", "write_json"]


def json_ready(obj):
    """Return `obj` with NaN and infinite floats replaced by None.

    JSON (RFC 8259) has no such numbers.  Python's json module writes them
    as bare NaN and Infinity, which strict parsers such as JavaScript's
    JSON.parse reject, so they become null: a quantity that could not be
    measured.
    """
    if isinstance(obj, dict):
        return {key: json_ready(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(value) for value in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path, obj):
    """Write `obj` as indented JSON to `path` atomically (see `json_ready`)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(json_ready(obj), f, indent=2, sort_keys=False, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def _unit_summary(inputs, labels):
    cov = max_abs_covariance(inputs, labels)
    corr = np.abs(input_label_correlation(inputs, labels)).max(axis=1)
    mi = mutual_information(inputs, labels, method="histogram")
    return {"max_abs_covariance": cov.tolist(), "max_abs_correlation": corr.tolist(),
            "mutual_information_nats": mi.tolist()}


def _subset(n, size, seed):
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _readouts(inputs_train, y_train, inputs_test, y_test, constraints):
    return {name: readout_accuracy(inputs_train[:, units], y_train,
                                   inputs_test[:, units], y_test)
            for name, units in (("free", constraints.free_units),
                                ("constrained", constraints.constrained_units))}


def disentanglement_metrics(rbm, constraints, train, test, subsample_size=20000,
                            seed=0):
    """Return the read-out and per-unit label metrics of a trained RBM.

    Parameters
    ----------
    rbm : RBM
    constraints : Constraints
    train, test : tuple (x, labels)
        Training and held-out data, x of shape (n_samples, n_visible).
    subsample_size : int or None
        Size of the random training subset of the second read-out (None or
        at least the training size: no second read-out).

    Returns
    -------
    dict
        ``readout``: free and constrained read-outs (accuracy, majority_rate,
        n_train, n_test) fitted on the whole training split.
        ``readout_subsample``: the same, fitted on `subsample_size` training
        samples.  ``free_units`` and ``constrained_units``: indices and
        per-unit statistics on the held-out data.  ``constraint_violation``.

    Notes
    -----
    On the training data the first-order constraint makes the class means
    of every constrained input equal, so the cross-entropy optimum of a
    linear read-out fitted on the whole split is the bias-only model, at the
    majority rate.  A read-out fitted on a subset sees class-mean noise and
    moves away from it; where it then beats the majority rate, it exploits
    differences in the class-conditional variances, which only the
    second-order penalty (lambda_Q) removes.
    """
    x_train, y_train = train
    x_test, y_test = test
    inputs_train = rbm.inputs_h_from_v(x_train)
    inputs_test = rbm.inputs_h_from_v(x_test)
    out = {"constraint_violation": constraints.violation(rbm.weights),
           "readout": _readouts(inputs_train, y_train, inputs_test, y_test,
                                constraints)}
    if subsample_size is not None and subsample_size < len(x_train):
        rows = _subset(len(x_train), subsample_size, seed)
        out["readout_subsample"] = _readouts(inputs_train[rows], y_train[rows],
                                             inputs_test, y_test, constraints)
    for name, units in (("free", constraints.free_units),
                        ("constrained", constraints.constrained_units)):
        stats = _unit_summary(inputs_test[:, units], y_test) if units.size else {}
        out[f"{name}_units"] = {"indices": units.tolist(), **stats}
    constrained = out["constrained_units"]
    if constraints.constrained_units.size:
        out["constrained_summary"] = {
            key: float(np.max(constrained[key])) for key in
            ("max_abs_covariance", "max_abs_correlation", "mutual_information_nats")}
    return out


def clamped_generation(rbm, free_units, train, test, n_per_class=100, n_steps=500,
                       seed=0, classifier_size=20000, n_threads=None):
    """Sample with the free units clamped to each class's typical value.

    The typical value of a class is the mean of E[h_free | v] over its
    training samples.  An independent softmax classifier on the visible
    units (trained on the training split) labels the samples.

    Returns
    -------
    samples : ndarray, shape (n_classes * n_per_class, n_visible)
    classes : ndarray, shape (n_classes,)
    metrics : dict
        classifier test accuracy, per-class fraction of samples labelled as
        the clamped class, and their mean.
    """
    x_train, y_train = train
    x_test, y_test = test
    classes, values = class_typical_values(rbm, x_train, y_train, free_units)
    rows = _subset(len(x_train), classifier_size, seed)
    classifier = SoftmaxReadout().fit(x_train[rows], y_train[rows])
    stream = Stream.from_seed(seed, 7)
    samples, per_class = [], {}
    for k, label in enumerate(classes):
        v = sample_clamped(rbm, stream, free_units, values[k], n_samples=n_per_class,
                           n_steps=n_steps, n_threads=n_threads)
        samples.append(v)
        per_class[str(label)] = float(np.mean(classifier.predict(v) == label))
    metrics = {"classifier_test_accuracy": float(classifier.score(x_test, y_test)),
               "per_class_accuracy": per_class,
               "mean_accuracy": float(np.mean(list(per_class.values()))),
               "chance_rate": 1.0 / len(classes), "n_per_class": n_per_class,
               "n_steps": n_steps,
               "typical_values": {str(c): v.tolist() for c, v in zip(classes, values)}}
    return np.concatenate(samples), classes, metrics


def write_report(out_dir, rbm, constraints, train, test, image_shape=None,
                 history=None, settings=None, seed=0, n_per_class=100, n_steps=500,
                 classifier_size=20000, n_threads=None):
    """Compute the metrics and write ``metrics.json`` and figures to out_dir.

    Returns the metrics dict.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    x_test, y_test = test
    metrics = {"settings": settings or {}}
    metrics.update(disentanglement_metrics(rbm, constraints, train, test,
                                           seed=seed))
    if rbm.visible.states is not None:
        metrics["pseudolikelihood_per_site_test"] = float(
            pseudolikelihood(rbm, x_test[:1000]).mean())
        metrics["reconstruction_error_test"] = reconstruction_error(rbm, x_test[:1000])
    free, constrained = constraints.free_units, constraints.constrained_units
    inputs_test = rbm.inputs_h_from_v(x_test)
    codes, classes = encode_labels(y_test)
    class_names = [str(c) for c in classes]
    figures = {}
    if free.size:
        figures["input_histograms_free"] = plots.plot_input_histograms(
            inputs_test, codes, free, out_dir / "input_histograms_free.png",
            unit_names=[f"free unit {u}" for u in free], class_names=class_names,
            title="Hidden inputs of the free units by class (test data)")
    if constrained.size:
        shown = constrained[:min(12, constrained.size)]
        figures["input_histograms_constrained"] = plots.plot_input_histograms(
            inputs_test, codes, shown, out_dir / "input_histograms_constrained.png",
            unit_names=[f"unit {u}" for u in shown], class_names=class_names,
            title="Hidden inputs of constrained units by class (test data)")
    if image_shape is not None and free.size:
        samples, classes, gen = clamped_generation(
            rbm, free, train, test, n_per_class, n_steps, seed, classifier_size,
            n_threads)
        metrics["clamped_generation"] = gen
        n_show = min(10, n_per_class)
        grid = np.concatenate([samples[k * n_per_class:k * n_per_class + n_show]
                               for k in range(len(classes))])
        figures["clamped_samples"] = plots.plot_image_grid(
            grid, out_dir / "clamped_samples.png", image_shape, n_rows=len(classes),
            row_labels=[str(c) for c in classes],
            title="Samples with the free units clamped to each class")
        np.save(out_dir / "clamped_samples.npy", samples)
        figures["free_weights"] = plots.plot_weight_images(
            rbm.weights, out_dir / "free_weights.png", image_shape, unit_indices=free,
            titles=[f"unit {u}" for u in free], title="Weights of the free units")
    if rbm.is_potts and rbm.visible.q == 21 and free.size:
        # 21 states: the protein alphabet of rbmfast.datasets.msa
        from rbmfast.report_protein import write_protein_figures

        gen, logos = write_protein_figures(out_dir, rbm, free, train, test,
                                           n_per_class, n_steps, seed, n_threads)
        metrics["clamped_generation"] = gen
        figures.update(logos)
    if history:
        keys = [k for k in history[0] if k not in ("epoch", "update")]
        series = {k: [h.get(k) for h in history] for k in ["epoch"] + keys}
        figures["training"] = plots.plot_training_curves(series, out_dir / "training.png")
    metrics["figures"] = {k: Path(v).name for k, v in figures.items()}
    write_json(out_dir / "metrics.json", metrics)
    return metrics
