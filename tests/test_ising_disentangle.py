"""Second-order disentanglement of the temperature on 2D Ising data.

An 8 x 8 lattice at three temperatures, with every training configuration
also flipped, so the class means of the spins are exactly 0 and only the
penalty lambda_Q acts on the constrained units.
"""
import numpy as np
import pytest

from rbmfast import TrainConfig, train
from rbmfast.datasets.ising import simulate_ising, split_by_chain
from rbmfast.evaluation.metrics import variance_spread
from rbmfast.report_ising import free_unit_statistics

TEMPERATURES = [1.8, 2.3, 3.0]


@pytest.fixture(scope="module")
def ising_data():
    data = simulate_ising(8, TEMPERATURES, 640, seed=1, n_chains=16, n_threads=1)
    train_rows, test_rows = split_by_chain(data, 4)
    x, y = data.spins[train_rows], data.temperature_index[train_rows]
    train_set = (np.concatenate([x, -x]), np.concatenate([y, y]))
    return train_set, (data.spins[test_rows], data.temperature_index[test_rows])


def train_models(ising_data, strengths, **settings):
    """Train 8-unit models at each lambda_Q; return {lambda_Q: (rbm, constraints)}."""
    (x, y), _ = ising_data
    trained = {}
    for strength in strengths:
        config = TrainConfig(n_hidden=8, visible="spin", n_free=1, lambda_Q=strength,
                             n_epochs=10, batch_size=100, seed=0, n_threads=1,
                             **settings)
        trained[strength] = train(config, x, y)[:2]
    return trained


@pytest.fixture(scope="module")
def models(ising_data):
    return train_models(ising_data, (0.0, 1000.0), hidden="spin")


def constrained_spread(rbm, constraints, x, y):
    spread = variance_spread(rbm.inputs_h_from_v(x), y)
    return float(np.median(spread[constraints.constrained_units]))


def test_first_order_constraint_empty(models):
    _, constraints = models[0.0]
    assert not np.any(constraints.groups[0].q)


def test_penalty_equalises_training_variances(ising_data, models):
    # Measured: median spread 1.31 without the penalty, 0.0015 with it (a
    # factor of about 870).
    (x, y), _ = ising_data
    without = constrained_spread(*models[0.0], x, y)
    with_penalty = constrained_spread(*models[1000.0], x, y)
    assert without > 0.5
    assert with_penalty < without / 100


def test_penalty_equalises_held_out_variances(ising_data, models):
    # Measured: 1.34 and 0.10 (a factor of 13).  The held-out spread keeps
    # the sampling noise of 3 x 256 configurations and of the training
    # covariances that the penalty was fitted to.
    _, (xt, yt) = ising_data
    without = constrained_spread(*models[0.0], xt, yt)
    with_penalty = constrained_spread(*models[1000.0], xt, yt)
    assert with_penalty < without / 5


def test_free_unit_separates_temperatures(ising_data, models):
    # Measured: read-out accuracy 0.75 (chance 0.33); input standard deviations
    # 12.8, 10.5 and 5.3 from the lowest temperature up.
    train_set, test_set = ising_data
    rbm, constraints = models[1000.0]
    xt, yt = test_set
    free = constraints.free_units
    assert variance_spread(rbm.inputs_h_from_v(xt)[:, free], yt)[0] > 1.0
    stats = free_unit_statistics(rbm, constraints, train_set, test_set, TEMPERATURES)
    assert stats["readout"]["free"]["accuracy"] > 0.6
    std = stats["units"][0]["std"]
    assert std[0] > std[1] > std[2]


@pytest.fixture(scope="module")
def drelu_models(ising_data):
    return train_models(ising_data, (0.0, 100.0), hidden="drelu", relative_Q=True)


def test_relative_penalty_equalises_drelu_variances(ising_data, drelu_models):
    # Measured: held-out median spread 1.34 without the penalty and 0.15 with
    # the relative one (0.071 on the training data).
    (x, y), (xt, yt) = ising_data
    assert drelu_models[100.0][1].groups[0].relative
    without = constrained_spread(*drelu_models[0.0], xt, yt)
    with_penalty = constrained_spread(*drelu_models[100.0], xt, yt)
    assert with_penalty < without / 5
    assert constrained_spread(*drelu_models[100.0], x, y) < without / 10


def test_relative_penalty_keeps_free_unit(ising_data, drelu_models):
    # Measured: free-unit read-out 0.74 (chance 0.33), constrained units 0.24.
    train_set, test_set = ising_data
    rbm, constraints = drelu_models[100.0]
    stats = free_unit_statistics(rbm, constraints, train_set, test_set, TEMPERATURES)
    assert stats["readout"]["free"]["accuracy"] > 0.6
    assert stats["readout"]["constrained"]["accuracy"] < 0.45
