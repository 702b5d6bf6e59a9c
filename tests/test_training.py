"""Tests of PCD / CD training: learning, constraints, schedules, errors."""
import numpy as np
import pytest

from rbmfast.config import TrainConfig
from rbmfast.constraints import label_constraints
from rbmfast.optimizers import NonFiniteParameterError
from rbmfast.random import Stream
from rbmfast.training import fit, init_rbm, learning_rate, train


def labelled_data(n=600, n_visible=24, seed=0):
    """Binary data whose first six pixels are switched on by class 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.random((n, n_visible)) < 0.25).astype(np.float32)
    x[y == 1, :6] = 1
    x[y == 2, 6:12] = (rng.random(((y == 2).sum(), 6)) < 0.8)
    return x, y


def test_two_bit_data_learned():
    # Data alternating (1,1) and (0,0): the model must put almost all mass on
    # those two states, each with probability 1/2.  The model distribution is
    # enumerated exactly over the 4 visible states, so the check measures
    # what PCD learned, not how well a sampler mixes between the two modes.
    x = np.array([[1, 1], [0, 0]] * 500, dtype=np.float32)
    cfg = TrainConfig(n_hidden=5, n_epochs=100, batch_size=100, lr=0.02,
                      n_chains=1000, n_gibbs=10, seed=0)
    rbm, _, _ = train(cfg, x)
    states = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    log_p = -rbm.free_energy(states)
    p = np.exp(log_p - np.logaddexp.reduce(log_p))
    # PCD estimates the gradient from 1000 chains, so the fitted mode weights
    # scatter by a few percent around 1/2.
    assert abs(p @ states[:, 0] - 0.5) < 0.05
    assert abs(p @ states[:, 1] - 0.5) < 0.05
    assert abs(p @ (states[:, 0] * states[:, 1]) - 0.5) < 0.05
    assert p[1] + p[2] < 0.05


def test_constraint_holds_float64():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=10, n_epochs=5, batch_size=50, n_free=2, dtype="float64",
                      seed=2)
    rbm, cons, _ = train(cfg, x, y)
    group = cons.groups[0]
    W_G = rbm.weights[:, group.units]
    rel = np.linalg.norm(group.q.T @ W_G) / (np.linalg.norm(group.q) * np.linalg.norm(W_G))
    assert rel < 1e-10
    assert np.linalg.norm(W_G) > 0.1


def test_constrained_inputs_uncorrelated():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=10, n_epochs=5, batch_size=50, n_free=2, dtype="float64",
                      seed=2)
    rbm, cons, _ = train(cfg, x, y)
    inputs = rbm.inputs_h_from_v(x)
    onehot = np.eye(3)[y][:, :2]
    cov = (inputs - inputs.mean(0)).T @ (onehot - onehot.mean(0)) / len(x)
    assert np.abs(cov[cons.constrained_units]).max() < 1e-10
    # the free units pick up the label: covariance 8 orders above the rest
    assert np.abs(cov[cons.free_units]).max() > 0.01


def test_constraint_holds_float32():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=10, n_epochs=3, batch_size=50, n_free=2, seed=2)
    rbm, cons, _ = train(cfg, x, y)
    # float32 weights: the projection is exact up to float32 rounding
    assert cons.violation(rbm.weights) < 1e-5


def penalty_run(lambda_Q):
    """Train from inflated weights; return (start, history, final) penalties."""
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=10, hidden="gaussian", n_epochs=12, batch_size=50,
                      n_free=2, lambda_Q=lambda_Q, dtype="float64", lr=1e-2, seed=4)
    probe = label_constraints(x, y, cfg.n_hidden, cfg.n_free, lambda_Q=1.0)
    cons = label_constraints(x, y, cfg.n_hidden, cfg.n_free, lambda_Q=lambda_Q)
    rbm = init_rbm(cfg, x)
    # larger weights give the second-order penalty something to remove
    rbm.weights *= 20
    probe.project(rbm.weights)
    start = probe.penalty(rbm.weights)
    state = fit(rbm, x, cfg, constraints=cons)
    history = [h.get("penalty", 0.0) for h in state.history]
    return start, history, probe.penalty(rbm.weights)


def test_penalty_decreases():
    start, history, final = penalty_run(100.0)
    assert all(a > b for a, b in zip(history, history[1:]))
    assert final < 0.1 * start


def test_penalty_beats_unpenalised():
    _, _, free_final = penalty_run(0.0)
    _, _, penalised_final = penalty_run(100.0)
    assert penalised_final < 0.3 * free_final


def test_resume_equals_single_run():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=8, n_epochs=10, batch_size=60, n_free=2, seed=5)
    full, _, s_full = train(cfg, x, y)
    assert s_full.update == 100
    part, cons, state = train(cfg, x, y, stop_at_update=50)
    fit(part, x, cfg, constraints=cons, state=state)
    assert np.array_equal(full.weights, part.weights)
    assert np.array_equal(full.visible.theta, part.visible.theta)
    assert np.array_equal(s_full.chains, state.chains)


def test_same_seed_same_result():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=8, n_epochs=2, batch_size=60, n_free=2, seed=5)
    a, _, _ = train(cfg, x, y)
    b, _, _ = train(cfg, x, y)
    c, _, _ = train(TrainConfig(**{**cfg.to_dict(), "seed": 6}), x, y)
    assert np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)


@pytest.mark.parametrize("method", ["pcd", "cd"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_methods_improve_pseudolikelihood(method, optimizer):
    from rbmfast.evaluation.pseudolikelihood import pseudolikelihood

    x, y = labelled_data()
    lr = 1e-2 if optimizer == "adam" else 0.1
    cfg = TrainConfig(n_hidden=10, n_epochs=15, batch_size=50, method=method,
                      optimizer=optimizer, lr=lr, seed=1, n_gibbs=2)
    rbm = init_rbm(cfg, x)
    before = pseudolikelihood(rbm, x).mean()
    fit(rbm, x, cfg)
    assert pseudolikelihood(rbm, x).mean() > before + 0.01


def test_sample_weights_zero_rows_ignored():
    # Rows with weight 0 must not affect the data phase: the visible fields
    # move towards the frequencies of the weighted rows only.
    ones = np.ones((300, 5), np.float32)
    zeros = np.zeros((300, 5), np.float32)
    x = np.concatenate([ones, zeros])
    w = np.concatenate([np.ones(300), np.full(300, 1e-6)])
    cfg = TrainConfig(n_hidden=3, n_epochs=20, batch_size=600, lr=0.05, seed=0,
                      weight_scale=0.0)
    rbm = init_rbm(cfg, x, weights=w)
    fit(rbm, x, cfg, weights=w)
    v, _ = rbm.gibbs(rbm.sample_independent_visible(5000, Stream.from_seed(2)),
                     Stream.from_seed(3), 20)
    assert v.mean() > 0.95


def test_learning_rate_schedule():
    cfg = TrainConfig(lr=1.0, lr_final=0.01, lr_decay_start=0.5)
    rates = [learning_rate(cfg, t, 100) for t in range(100)]
    assert rates[0] == 1.0
    assert rates[49] == 1.0
    assert rates[-1] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_callback_stops_training():
    x, _ = labelled_data()
    cfg = TrainConfig(n_hidden=4, n_epochs=5, batch_size=50, seed=0)
    seen = []

    def callback(update, epoch, batch, rbm, state):
        seen.append(update)
        return False if update == 7 else None

    rbm = init_rbm(cfg, x)
    state = fit(rbm, x, cfg, callback=callback)
    assert seen == list(range(1, 8))
    assert state.update == 7


def test_nonfinite_parameters_raise():
    x, _ = labelled_data()
    # a learning rate beyond the float32 range turns the first step into inf
    cfg = TrainConfig(n_hidden=4, n_epochs=5, batch_size=50, optimizer="sgd",
                      lr=1e39, seed=0)
    rbm = init_rbm(cfg, x)
    with pytest.raises(NonFiniteParameterError, match="parameter block 'weights'.*update"):
        fit(rbm, x, cfg)


@pytest.mark.parametrize("bad, match", [
    (dict(batch_size=10_000), "batch_size = 10000 is larger"),
    (dict(n_free=11), "n_free = 11"),
    (dict(n_gibbs=0), "n_gibbs"),
    (dict(lr=-1.0), "lr must be a finite number > 0"),
    (dict(lr=float("inf")), "lr must be a finite number > 0"),
    (dict(n_threads=0), "n_threads = 0"),
    (dict(Q_rank=3), "Q_rank = 3 has no effect"),
    (dict(n_free="2"), "n_free must be an integer"),
    (dict(method="foo"), "method"),
    (dict(periodic_lattice=[4, 0]), "periodic_lattice must be a list of positive"),
    (dict(periodic_lattice=(4, 5), lambda_Q=1.0), "has 20 sites but the data have 24"),
    (dict(periodic_lattice=[4, 5], n_free=None), "has 20 sites but the data have 24"),
])
def test_invalid_config_rejected(bad, match):
    x, y = labelled_data()
    settings = {"n_hidden": 10, "n_epochs": 1, "batch_size": 50, "n_free": 2, **bad}
    cfg = TrainConfig(**settings)
    with pytest.raises(ValueError, match=match):
        train(cfg, x, y)


def test_periodic_lattice_config_trains():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=6, n_epochs=1, batch_size=50, n_free=2, lambda_Q=1.0,
                      periodic_lattice=[4, 6], seed=0)
    _, constraints, _ = train(cfg, x, y)
    Q = constraints.groups[0].Q[0]
    # translation invariant: row 0 shifted by one lattice row is row 6
    assert Q[6, 6] == pytest.approx(Q[0, 0])
    assert Q[6, 7] == pytest.approx(Q[0, 1])
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("value", [0.5, 2.0, np.nan, np.inf])
def test_bad_data_values_rejected(value):
    x, y = labelled_data()
    x[3, 4] = value
    cfg = TrainConfig(n_hidden=4, n_epochs=1, batch_size=50)
    with pytest.raises(ValueError, match="sample 3, unit 4"):
        train(cfg, x, y)


def test_spin_zero_rejected():
    x, _ = labelled_data()
    s = 2 * x - 1
    s[0, 0] = 0
    with pytest.raises(ValueError, match="must be -1 or 1, got 0.0"):
        train(TrainConfig(n_hidden=4, visible="spin", n_epochs=1, batch_size=50), s)


def test_labels_wrong_length_rejected():
    x, y = labelled_data()
    with pytest.raises(ValueError, match="labels have length 599"):
        train(TrainConfig(n_hidden=4, n_epochs=1, batch_size=50, n_free=1), x, y[:-1])


def test_single_class_label_rejected():
    x, _ = labelled_data()
    with pytest.raises(ValueError, match="single class"):
        train(TrainConfig(n_hidden=4, n_epochs=1, batch_size=50, n_free=1), x,
              np.zeros(len(x), int))


def test_missing_labels_rejected():
    x, _ = labelled_data()
    with pytest.raises(ValueError, match="no labels"):
        train(TrainConfig(n_hidden=4, n_epochs=1, batch_size=50, n_free=1), x)


def test_wrong_data_shape_rejected():
    with pytest.raises(ValueError, match="2-D"):
        train(TrainConfig(n_hidden=4, n_epochs=1, batch_size=5), np.zeros(50))


# ReLU and dReLU hidden units, rescaled to variance 1 after every update


@pytest.mark.parametrize("hidden", ["relu", "drelu"])
def test_resume_equals_single_run_rescaled(hidden):
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=8, hidden=hidden, n_epochs=4, batch_size=60, n_free=2,
                      seed=5)
    full, _, s_full = train(cfg, x, y)
    part, cons, state = train(cfg, x, y, stop_at_update=17)
    fit(part, x, cfg, constraints=cons, state=state)
    assert np.array_equal(full.weights, part.weights)
    for name in full.hidden.param_names:
        assert np.array_equal(getattr(full.hidden, name), getattr(part.hidden, name))
    assert np.array_equal(s_full.chains, state.chains)


@pytest.mark.parametrize("hidden", ["relu", "drelu"])
def test_rescaled_units_keep_unit_variance(hidden):
    # Each update ends with unit variance over its minibatch, so over the
    # whole data the variance stays near 1; without rescaling it drifts.
    x, y = labelled_data()
    variances = {}
    for rescale in (None, False):
        cfg = TrainConfig(n_hidden=10, hidden=hidden, n_epochs=15, batch_size=50,
                          lr=1e-2, n_free=2, dtype="float64", seed=1,
                          rescale_hidden=rescale)
        rbm, cons, _ = train(cfg, x, y)
        inputs = rbm.inputs_h_from_v(x)
        mean = rbm.hidden.mean(inputs)
        variances[rescale] = rbm.hidden.var(inputs).mean(axis=0) + mean.var(axis=0)
        # rescaling columns keeps them in the null space of q^T
        assert cons.violation(rbm.weights) < 1e-10
    assert np.all(np.abs(variances[None] - 1) < 0.3)
    assert np.any(np.abs(variances[False] - 1) > 0.3)


def test_gaussian_hidden_not_rescaled_by_default():
    x, y = labelled_data()
    cfg = TrainConfig(n_hidden=6, hidden="gaussian", n_epochs=1, batch_size=60,
                      n_free=2, seed=2)
    default, _, _ = train(cfg, x, y)
    off, _, _ = train(TrainConfig(**{**cfg.to_dict(), "rescale_hidden": False}), x, y)
    on, _, _ = train(TrainConfig(**{**cfg.to_dict(), "rescale_hidden": True}), x, y)
    assert np.array_equal(default.weights, off.weights)
    assert not np.array_equal(default.weights, on.weights)
