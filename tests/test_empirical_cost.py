"""Held-out log-likelihood by the best route to log Z, and the measured cost of
constraints (rbmfast.evaluation.empirical_cost)."""
import concurrent.futures

import numpy as np
import pytest

from rbmfast import TrainConfig
from rbmfast.evaluation.cost import empirical_cost as cost_module_function
from rbmfast.evaluation.empirical_cost import (cost_configs, empirical_cost,
                                               train_and_evaluate)
from rbmfast.evaluation.likelihood import held_out_log_likelihood, log_z_method
from rbmfast.evaluation.partition import log_partition_exact
from rbmfast.layers import Binary, Gaussian, Spin
from rbmfast.rbm import RBM


def random_rbm(visible, hidden, n_visible, n_hidden, scale=0.3, seed=0):
    rng = np.random.default_rng(seed)

    def layer(cls, n):
        params = {"theta": rng.normal(0, 0.3, n)}
        if cls is Gaussian:
            params["gamma"] = rng.uniform(1.5, 2.5, n)
        return cls(n, dtype=np.float64, **params)

    return RBM(layer(visible, n_visible), layer(hidden, n_hidden),
               rng.normal(0, scale, (n_visible, n_hidden)))


def labelled_spins(n=400, n_visible=12, seed=0):
    """Spins that copy a shared random sign z with a probability set by the
    class (so the class changes their correlations), and whose first 3 spins
    lean to +1 in class 2 (so it changes their means too)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    z = rng.choice([-1.0, 1.0], n)
    noise = rng.choice([-1.0, 1.0], (n, n_visible))
    copy = rng.random((n, n_visible)) < (0.1 + 0.35 * y)[:, None]
    x = np.where(copy, z[:, None], noise)
    lean = (y == 2)[:, None] & (rng.random((n, 3)) < 0.6)
    x[:, :3] = np.where(lean, 1.0, x[:, :3])
    return x.astype(np.float32), y


# -- held_out_log_likelihood ------------------------------------------------------
def test_method_chosen_by_layers():
    assert log_z_method(random_rbm(Binary, Binary, 30, 8)) == "exact"
    assert log_z_method(random_rbm(Spin, Gaussian, 10, 4)) == "exact"
    assert log_z_method(random_rbm(Gaussian, Gaussian, 3, 2)) == "gaussian"
    assert log_z_method(random_rbm(Binary, Gaussian, 21, 3)) == "ais"
    assert log_z_method(random_rbm(Binary, Binary, 30, 8), max_states=2**7) == "ais"


def test_method_rejects_unknown():
    with pytest.raises(ValueError, match="log Z method must be one of .*got 'mcmc'"):
        log_z_method(random_rbm(Binary, Binary, 4, 2), "mcmc")


def test_exact_mean_and_per_site():
    rbm = random_rbm(Spin, Binary, 10, 4)
    data = np.where(np.random.default_rng(1).random((50, 10)) < 0.5, 1.0, -1.0)
    result = held_out_log_likelihood(rbm, data)
    assert result["method"] == "exact"
    expected = -rbm.free_energy(data).mean() - log_partition_exact(rbm)
    assert result["log_likelihood"] == pytest.approx(expected, rel=1e-12)
    assert result["log_likelihood_per_site"] == pytest.approx(expected / 10, rel=1e-12)
    assert result["n_samples"] == 50
    assert result["std_error_data"] > 0


def test_ais_brackets_exact():
    # Forward AIS is low and reverse AIS high in expectation; each within 4
    # standard errors plus 0.02 nats of the exact value.
    rbm = random_rbm(Binary, Spin, 10, 6, scale=0.5)
    data = (np.random.default_rng(2).random((200, 10)) < 0.5).astype(np.float64)
    exact = held_out_log_likelihood(rbm, data)
    estimate = held_out_log_likelihood(rbm, data, base_data=data, method="ais",
                                       n_chains=200, n_betas=500)
    assert estimate["method"] == "ais"
    for key, error in (("log_z", "log_z_std_error"),
                       ("log_z_reverse", "log_z_reverse_std_error")):
        assert abs(estimate[key] - exact["log_z"]) < 4 * estimate[error] + 0.02
    assert estimate["log_likelihood_reverse"] == pytest.approx(
        estimate["log_likelihood"] + estimate["log_z"] - estimate["log_z_reverse"])


def test_ais_same_for_one_and_two_threads():
    rbm = random_rbm(Binary, Binary, 10, 6).astype(np.float32)
    data = (np.random.default_rng(3).random((100, 10)) < 0.5).astype(np.float32)
    one = held_out_log_likelihood(rbm, data, method="ais", n_chains=80, n_betas=100,
                                  n_threads=1)
    two = held_out_log_likelihood(rbm, data, method="ais", n_chains=80, n_betas=100,
                                  n_threads=2)
    assert one == two


def test_gaussian_route_rejects_divergent_model():
    improper = RBM(Gaussian(1, dtype=np.float64), Gaussian(1, dtype=np.float64),
                   [[2.0]])
    with pytest.raises(ValueError, match=r"not positive definite \(smallest "
                                         r"eigenvalue -1\)"):
        held_out_log_likelihood(improper, np.zeros((3, 1)))


def test_exact_route_rejects_too_many_states():
    rbm = random_rbm(Binary, Binary, 12, 10)
    with pytest.raises(ValueError, match=r"2\^10 = 1024 states, more than "
                                         r"max_states=100"):
        held_out_log_likelihood(rbm, np.zeros((2, 12)), method="exact",
                                max_states=100)


def test_rejects_invalid_held_out_states():
    rbm = random_rbm(Spin, Binary, 4, 2)
    with pytest.raises(ValueError, match="held-out data of a Spin layer"):
        held_out_log_likelihood(rbm, np.zeros((2, 4)))


# -- empirical_cost ---------------------------------------------------------------
def small_config(**changes):
    settings = dict(n_hidden=6, visible="spin", hidden="spin", n_epochs=5,
                    batch_size=50, lr=0.01, seed=0, n_threads=1)
    settings.update(changes)
    return TrainConfig(**settings)


@pytest.fixture(scope="module")
def cost_result():
    x, y = labelled_spins()
    xt, yt = labelled_spins(150, seed=1)
    return empirical_cost(small_config(), x, y, xt, n_free=[1, 3],
                          lambda_Q=[0.0, 1000.0], test_labels=yt)


def test_cost_settings_in_order(cost_result):
    assert cost_result["unconstrained"]["n_free"] is None
    pairs = [(r["n_free"], r["lambda_Q"]) for r in cost_result["constrained"]]
    assert pairs == [(1, 0.0), (1, 1000.0), (3, 0.0), (3, 1000.0)]
    assert [(d["n_free"], d["lambda_Q"]) for d in cost_result["differences"]] == pairs
    assert cost_result["n_visible"] == 12
    assert cost_result["n_test"] == 150


def test_cost_differences_match_runs(cost_result):
    reference = cost_result["unconstrained"]["log_likelihood"]["log_likelihood"]
    for run, difference in zip(cost_result["constrained"],
                               cost_result["differences"]):
        delta = run["log_likelihood"]["log_likelihood"] - reference
        assert difference["delta_log_likelihood"] == pytest.approx(delta, rel=1e-12)
        assert difference["delta_log_likelihood_per_site"] == pytest.approx(delta / 12)
        assert difference["std_error_log_z"] == 0.0
        assert difference["std_error_data"] > 0
        assert "per_sample_log_likelihood" not in run


def test_cost_penalty_lowers_likelihood(cost_result):
    # Measured: -0.46 +- 0.10 nats per sample for 1 free unit and lambda_Q =
    # 1000, where the class-dependent correlations cannot use the 5
    # constrained units.
    difference = cost_result["differences"][1]
    assert difference["delta_log_likelihood"] < -0.2
    assert difference["delta_log_likelihood"] < -2 * difference["std_error_data"]


def test_cost_penalty_lowers_training_spread(cost_result):
    # Measured: median spreads 1.50 and 0.10.
    first_order, penalised = cost_result["constrained"][:2]
    assert (penalised["variance_spread"]["train"]["constrained_median"]
            < first_order["variance_spread"]["train"]["constrained_median"] / 3)
    assert "test" in penalised["variance_spread"]


def test_cost_same_through_process_pool(cost_result):
    x, y = labelled_spins()
    xt, yt = labelled_spins(150, seed=1)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        parallel = empirical_cost(small_config(), x, y, xt, n_free=[1, 3],
                                  lambda_Q=[0.0, 1000.0], test_labels=yt,
                                  map_function=pool.map)
    for ours, theirs in zip(parallel["differences"], cost_result["differences"]):
        assert ours == theirs


def test_cost_with_ais_has_bracket():
    x, y = labelled_spins()
    xt, _ = labelled_spins(100, seed=2)
    result = empirical_cost(small_config(), x, y, xt, n_free=[1], lambda_Q=[0.0],
                            likelihood={"method": "ais", "n_chains": 50,
                                        "n_betas": 100})
    difference = result["differences"][0]
    low, high = difference["delta_log_likelihood_bounds"]
    assert low <= high
    assert difference["std_error_log_z"] > 0
    assert "delta_log_likelihood_reverse" in difference


def test_cost_function_exported_from_cost_module():
    assert cost_module_function is empirical_cost


def test_train_and_evaluate_plain_values():
    x, y = labelled_spins()
    xt, _ = labelled_spins(50, seed=3)
    result = train_and_evaluate(small_config(n_free=2), x, y, xt)
    assert result["config"]["n_free"] == 2
    assert result["train_seconds"] >= 0
    assert result["constraint_violation"] < 1e-5
    assert result["per_sample_log_likelihood"].shape == (50,)


@pytest.mark.parametrize("n_free, lambda_Q, message", [
    ([], [0.0], "n_free must contain at least one value"),
    ([1, 1], [0.0], r"n_free contains repeated values \[1\]"),
    ([1.5], [0.0], "n_free values must be integers, got 1.5"),
    ([7], [0.0], "n_free = 7 must be between 0 and n_hidden = 6"),
    ([1], [-2.0], "lambda_Q values must be finite numbers >= 0, got -2.0"),
    ([1], [float("inf")], "got inf"),
    ([1], "10", "lambda_Q must be a sequence of values, got '10'"),
])
def test_cost_rejects_settings(n_free, lambda_Q, message):
    with pytest.raises(ValueError, match=message):
        cost_configs(small_config(), n_free, lambda_Q)


def test_cost_rejects_large_Q_before_training():
    with pytest.raises(ValueError, match="second-order matrices need"):
        cost_configs(small_config(), [1], [1.0], n_classes=3, n_visible=10**5)
    assert len(cost_configs(small_config(Q_rank=2), [1], [1.0], n_classes=3,
                            n_visible=10**5)) == 2


def test_cost_rejects_unknown_likelihood_option():
    x, y = labelled_spins()
    with pytest.raises(ValueError, match=r"unknown likelihood options \['chains'\]"):
        empirical_cost(small_config(), x, y, x, likelihood={"chains": 10})


def test_cost_rank_only_with_penalty():
    configs = cost_configs(small_config(Q_rank=3, lambda_Q=1.0), [1], [0.0, 5.0])
    assert configs[0].Q_rank is None
    assert configs[1].Q_rank is None
    assert configs[2].Q_rank == 3
