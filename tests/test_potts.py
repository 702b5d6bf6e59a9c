"""Potts visible layers: kernels against a dense one-hot reference, sampling,
stationarity, the zero-sum gauge, constraints, sample weights and files.

The reference computations build the one-hot matrix X (B x n q) of the
states and use dense products, which is what the kernels avoid.
"""
import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from rbmfast.config import TrainConfig
from rbmfast.constraints import label_constraints
from rbmfast.gauge import apply_zero_sum_gauge, project_zero_sum
from rbmfast.io import load_checkpoint, load_model, save_checkpoint, save_model
from rbmfast.labels import label_covariance_matrix, label_matrix, potts_label_covariance
from rbmfast.layers import LAYER_TYPES, Binary, Gaussian, Potts, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM
from rbmfast.training import fit, init_rbm, new_state, train

from test_stationarity import expected_tv

DTYPES = [np.float32, np.float64]
# every hidden layer type that can sit under a Potts visible layer
HIDDEN = [cls for name, cls in LAYER_TYPES.items() if name != "potts"]
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def _hidden(cls, M, dtype, rng):
    params = {}
    for name in cls.param_names:
        if name.startswith("gamma"):
            params[name] = rng.uniform(1.0, 2.0, M)
        else:
            params[name] = rng.normal(0.0, 0.5, M)
    return cls(M, dtype=dtype, **params)


def _rbm(hid_cls=Binary, dtype=np.float64, n=5, q=4, M=3, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    visible = Potts(n, q, dtype=dtype, theta=rng.normal(0.0, 1.0, (n, q)))
    return RBM(visible, _hidden(hid_cls, M, dtype, rng),
               rng.normal(0.0, scale, (n, q, M)))


def _states(n_samples, n, q, seed=1):
    return np.random.default_rng(seed).integers(0, q, (n_samples, n)).astype(np.uint8)


def _one_hot(v, q):
    v = np.asarray(v, dtype=np.intp)
    out = np.zeros((v.shape[0], v.shape[1] * q))
    out[np.arange(v.shape[0])[:, None], np.arange(v.shape[1]) * q + v] = 1.0
    return out


def _all_states(n, q):
    return np.array(list(itertools.product(range(q), repeat=n)), dtype=np.uint8)


def _state_index(v, q):
    powers = q ** np.arange(v.shape[1] - 1, -1, -1)
    return v.astype(np.int64) @ powers


def _exact_p(rbm):
    F = rbm.astype(np.float64).free_energy(_all_states(rbm.n_visible, rbm.visible.q))
    return softmax(-F)


# kernels against the one-hot reference


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_inputs_and_free_energy_match_one_hot(hid_cls, dtype):
    rbm = _rbm(hid_cls, dtype)
    v = _states(40, 5, 4)
    X = _one_hot(v, 4)
    W = rbm.weights.astype(np.float64).reshape(-1, 3)
    inputs = X @ W
    assert np.allclose(rbm.inputs_h_from_v(v), inputs, atol=TOL[dtype])
    F = -X @ rbm.visible.theta.astype(np.float64).ravel() - rbm.hidden.cgf(
        inputs.astype(dtype))
    assert np.allclose(rbm.free_energy(v), F, atol=10 * TOL[dtype])
    h = rbm.hidden.sample(inputs.astype(dtype), Stream.from_seed(0)).astype(np.float64)
    energy = (-X @ rbm.visible.theta.astype(np.float64).ravel()
              + rbm.hidden.energy(h) - np.einsum("bi,ij,bj->b", X, W, h))
    assert np.allclose(rbm.energy(v, h), energy, atol=10 * TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_visible_conditionals_match_softmax(dtype):
    rbm = _rbm(Gaussian, dtype)
    h = np.random.default_rng(2).normal(0.0, 1.0, (30, 3)).astype(dtype)
    logits = (h.astype(np.float64) @ rbm.weights.astype(np.float64).reshape(-1, 3).T
              ).reshape(30, 5, 4) + rbm.visible.theta
    inputs = rbm.inputs_v_from_h(h)
    assert inputs.shape == (30, 20)
    assert np.allclose(rbm.visible.probabilities(inputs), softmax(logits, axis=2),
                       atol=TOL[dtype])
    assert np.allclose(rbm.visible.cgf(inputs), logsumexp(logits, axis=2).sum(axis=1),
                       atol=10 * TOL[dtype])
    assert np.array_equal(rbm.visible.mode(inputs), np.argmax(logits, axis=2))


def test_cgf_stable_for_large_inputs():
    layer = Potts(2, 3, dtype=np.float32)
    inputs = np.array([[1e4, -1e4, 0.0, 500.0, 499.0, -3e3]], dtype=np.float32)
    expected = 1e4 + 500.0 + np.log1p(np.exp(-1.0))
    assert layer.cgf(inputs)[0] == pytest.approx(expected, rel=1e-7)
    p = layer.probabilities(inputs)
    assert np.isfinite(p).all()
    assert np.allclose(p.sum(axis=2), 1.0)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_phase_gradient_matches_one_hot(hid_cls, dtype, accumulate):
    from rbmfast._kernels import _potts

    rbm = _rbm(hid_cls, dtype, n=7, q=3, M=70)   # two hidden column blocks
    rng = np.random.default_rng(3)
    B = 45
    v = _states(B, 7, 3)
    coef = (rng.uniform(0.1, 2.0, B) * rng.choice([-1.0, 1.0], B)).astype(dtype)
    grad = rng.normal(0.0, 1.0, (21, 70)).astype(dtype)
    R = len(rbm.hidden.param_names)
    stats_v = rng.normal(0.0, 1.0, (1, 21))
    stats_h = rng.normal(0.0, 1.0, (max(R, 2), 70))
    grad0, sv0, sh0 = grad.copy(), stats_v.copy(), stats_h.copy()
    _potts.phase_gradient(rbm.visible.theta, rbm.hidden.kind, rbm.hidden.params(),
                          rbm.flat_weights, v, coef, np.empty((B, 70), dtype),
                          np.empty((B, 70), dtype), grad, accumulate, stats_v,
                          stats_h, 1)
    X = _one_hot(v, 3)
    inputs = (X @ rbm.flat_weights.astype(np.float64)).astype(dtype)
    mean_h = rbm.hidden.mean(inputs).astype(np.float64)
    c = coef.astype(np.float64)
    expected = (c[:, None] * X).T @ mean_h + (grad0 if accumulate else 0)
    assert np.allclose(grad, expected, atol=50 * TOL[dtype])
    assert np.allclose(stats_v, sv0 + c @ X, atol=1e-12)
    # the hidden statistics are those of the dense kernel on the one-hot data
    from rbmfast._kernels import _gradient

    dense_v, dense_h = np.zeros((2, 21)), sh0.copy()
    _gradient.phase_gradient(0, (np.zeros(21, dtype),), rbm.hidden.kind,
                             rbm.hidden.params(), rbm.flat_weights, X.astype(dtype),
                             coef, np.empty((B, 70), dtype), np.empty((B, 70), dtype),
                             np.empty((21, 70), dtype), False, dense_v, dense_h, 1)
    assert np.allclose(stats_h, dense_h, atol=50 * TOL[dtype])
    if hid_cls is not LAYER_TYPES["drelu"]:
        assert np.allclose(stats_h[0], sh0[0] + c @ mean_h, atol=50 * TOL[dtype])


def test_phase_gradient_thread_count_independent():
    from rbmfast._kernels import _potts

    rbm = _rbm(Gaussian, np.float32, n=200, q=21, M=100, scale=0.05)
    B = 300
    v = _states(B, 200, 21)
    coef = np.full(B, 1.0 / B, np.float32)
    results = []
    for threads in (1, 2):
        grad = np.empty((4200, 100), np.float32)
        stats_v, stats_h = np.zeros((1, 4200)), np.zeros((2, 100))
        _potts.phase_gradient(rbm.visible.theta, rbm.hidden.kind, rbm.hidden.params(),
                              rbm.flat_weights, v, coef, np.empty((B, 100), np.float32),
                              np.empty((B, 100), np.float32), grad, False, stats_v,
                              stats_h, threads)
        results.append((grad, stats_v, stats_h))
    for one, two in zip(*results):
        assert np.array_equal(one, two)


# sampling


def test_sampling_frequencies_match_softmax():
    layer = Potts(3, 5, dtype=np.float64, theta=np.random.default_rng(4).normal(0, 1, (3, 5)))
    inputs = np.tile(np.random.default_rng(5).normal(0, 1, (1, 15)), (40000, 1))
    v = layer.sample(inputs, Stream.from_seed(6))
    p = layer.probabilities(inputs[:1])[0]
    for i in range(3):
        freq = np.bincount(v[:, i], minlength=5) / 40000
        # 5 standard errors of a frequency p from 40000 draws
        assert np.all(np.abs(freq - p[i]) < 5 * np.sqrt(p[i] * (1 - p[i]) / 40000))


def test_sampling_handles_certain_and_impossible_states():
    layer = Potts(2, 4, dtype=np.float32)
    inputs = np.array([[0, 0, 200, 0, -1e4, -1e4, -1e4, 0]] * 1000, np.float32)
    v = layer.sample(inputs, Stream.from_seed(1))
    assert np.all(v[:, 0] == 2)
    assert np.all(v[:, 1] == 3)


def test_sampling_is_seeded_and_advances():
    layer = Potts(6, 4, dtype=np.float32)
    inputs = np.zeros((50, 24), np.float32)
    a = layer.sample(inputs, Stream.from_seed(7))
    stream = Stream.from_seed(7)
    b = layer.sample(inputs, stream)
    c = layer.sample(inputs, stream)
    assert np.array_equal(a, b)
    assert not np.array_equal(b, c)


def test_gibbs_clamps_hidden_units():
    rbm = _rbm(Gaussian, np.float32, M=4)
    v0 = _states(60, 5, 4)
    v, h = rbm.gibbs(v0, Stream.from_seed(3), n_steps=3, clamp=([2, 0], [0.7, -1.1]))
    assert v.dtype == np.uint8
    assert v.max() < 4
    assert np.all(h[:, 2] == np.float32(0.7))
    assert np.all(h[:, 0] == np.float32(-1.1))


N_STATIONARY = 20000


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_gibbs_stationary(hid_cls, dtype):
    # 3 sites with q = 3: the 27 visible states are enumerable, and chains
    # started from exact samples must stay exactly distributed.
    rbm = _rbm(hid_cls, dtype, n=3, q=3, M=3, seed=8, scale=0.8)
    p = _exact_p(rbm)
    states = _all_states(3, 3)
    rng = np.random.default_rng(9)
    v = states[rng.choice(27, size=N_STATIONARY, p=p)]
    floor = expected_tv(p, N_STATIONARY)
    stream = Stream.from_seed(10)
    for sweeps in (1, 4, 16):
        v, _ = rbm.gibbs(v, stream, n_steps=sweeps)
        counts = np.bincount(_state_index(v, 3), minlength=27)
        tv = 0.5 * np.abs(counts / N_STATIONARY - p).sum()
        assert tv < 4 * floor, f"TV {tv:.4f} after {sweeps} sweeps"


def test_stationarity_check_rejects_wrong_machine():
    rbm = _rbm(Binary, np.float64, n=3, q=3, M=3, seed=8, scale=0.8)
    wrong = RBM(rbm.visible, rbm.hidden, 1.6 * rbm.weights)
    p = _exact_p(rbm)
    states = _all_states(3, 3)
    v = states[np.random.default_rng(9).choice(27, size=N_STATIONARY, p=p)]
    v, _ = wrong.gibbs(v, Stream.from_seed(10), n_steps=16)
    counts = np.bincount(_state_index(v, 3), minlength=27)
    assert 0.5 * np.abs(counts / N_STATIONARY - p).sum() > 4 * expected_tv(p, N_STATIONARY)


# the zero-sum gauge


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_gauge_leaves_model_unchanged(hid_cls):
    rbm = _rbm(hid_cls, np.float64, n=3, q=3, M=2, seed=11)
    rbm.visible.theta += 0.7
    rbm.weights += np.random.default_rng(12).normal(0.0, 1.0, (3, 1, 2))
    states = _all_states(3, 3)
    F_before = rbm.free_energy(states)
    shift = apply_zero_sum_gauge(rbm)
    F_after = rbm.free_energy(states)
    assert np.allclose(rbm.visible.theta.sum(axis=1), 0, atol=1e-12)
    assert np.allclose(rbm.weights.sum(axis=1), 0, atol=1e-12)
    # free-energy differences are unchanged; F rises and log Z falls by `shift`
    assert np.allclose(F_after - F_after[0], F_before - F_before[0], atol=1e-12)
    assert np.allclose(F_after - F_before, shift, atol=1e-12)
    logZ_before, logZ_after = logsumexp(-F_before), logsumexp(-F_after)
    assert logZ_before - logZ_after == pytest.approx(shift, abs=1e-12)
    assert np.allclose(-F_before - logZ_before, -F_after - logZ_after, atol=1e-12)
    # the conditionals of the hidden units are unchanged too
    h = rbm.hidden.mean(rbm.inputs_h_from_v(states))
    gauged = apply_zero_sum_gauge(rbm)
    assert gauged == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(rbm.hidden.mean(rbm.inputs_h_from_v(states)), h, atol=1e-12)


def test_project_zero_sum():
    g = np.random.default_rng(0).normal(size=(4, 3, 2)).astype(np.float32)
    project_zero_sum(g)
    assert np.allclose(g.sum(axis=1), 0, atol=1e-6)


def _site_frequencies(rbm):
    """Exact model marginals P(v_i = a), (n, q), by enumeration."""
    n, q = rbm.n_visible, rbm.visible.q
    p = _exact_p(rbm)
    X = _one_hot(_all_states(n, q), q)
    return (p @ X).reshape(n, q)


def _small_potts_data(n_samples=3000, seed=13):
    rng = np.random.default_rng(seed)
    # site 1 copies site 0 most of the time; site 2 is independent and skewed
    s0 = rng.choice(3, n_samples, p=[0.6, 0.3, 0.1])
    s1 = np.where(rng.random(n_samples) < 0.8, s0, rng.integers(0, 3, n_samples))
    s2 = rng.choice(3, n_samples, p=[0.2, 0.2, 0.6])
    return np.stack([s0, s1, s2], axis=1).astype(np.uint8)


def test_training_fits_site_frequencies_and_moves_fields():
    data = _small_potts_data()
    config = TrainConfig(visible="potts", n_states=3, hidden="binary", n_hidden=4,
                         n_epochs=30, batch_size=100, lr=0.02, dtype="float64",
                         n_gibbs=5, seed=1)
    rbm = init_rbm(config, data)
    theta0 = rbm.visible.theta.copy()
    fit(rbm, data, config)
    target = Potts(3, 3).frequencies(data)
    assert np.abs(_site_frequencies(rbm) - target).max() < 0.03
    assert np.abs(rbm.visible.theta - theta0).max() > 0.05
    assert np.allclose(rbm.visible.theta.sum(axis=1), 0, atol=1e-10)
    assert np.allclose(rbm.weights.sum(axis=1), 0, atol=1e-10)
    # the pair correlation of sites 0 and 1 is learned through the hidden units
    p = _exact_p(rbm)
    states = _all_states(3, 3)
    assert p[states[:, 0] == states[:, 1]].sum() > 0.7


# sample weights


def test_integer_weights_equal_duplicated_rows():
    data = _small_potts_data(60, seed=14)
    counts = np.random.default_rng(15).integers(1, 4, 60)
    duplicated = np.repeat(data, counts, axis=0)
    base = dict(visible="potts", n_states=3, hidden="gaussian", n_hidden=3,
                n_epochs=3, lr=0.01, dtype="float64", n_chains=50, seed=2)
    # one minibatch holding all the data, so both runs see the same sums
    weighted, _, _ = train(TrainConfig(batch_size=60, **base), data,
                           weights=counts.astype(float))
    repeated, _, _ = train(TrainConfig(batch_size=len(duplicated), **base), duplicated)
    assert np.allclose(weighted.weights, repeated.weights, atol=1e-9)
    assert np.allclose(weighted.visible.theta, repeated.visible.theta, atol=1e-9)
    assert np.allclose(weighted.hidden.theta, repeated.hidden.theta, atol=1e-9)


def test_small_weights_fit_weighted_frequencies():
    rng = np.random.default_rng(16)
    heavy = rng.choice(3, (2000, 3), p=[0.7, 0.2, 0.1])
    light = rng.choice(3, (2000, 3), p=[0.1, 0.2, 0.7])
    data = np.vstack([heavy, light]).astype(np.uint8)
    weights = np.r_[np.ones(2000), np.full(2000, 1e-3)]
    config = TrainConfig(visible="potts", n_states=3, hidden="binary", n_hidden=3,
                         n_epochs=20, batch_size=200, lr=0.02, dtype="float64",
                         n_gibbs=5, seed=3)
    rbm, _, _ = train(config, data, weights=weights)
    target = Potts(3, 3).frequencies(data, weights)
    model = _site_frequencies(rbm)
    assert np.abs(model - target).max() < 0.04
    # the unweighted frequencies (about 0.4 for states 0 and 2) are far away
    assert np.abs(model - Potts(3, 3).frequencies(data)).max() > 0.2


# constraints


def test_potts_label_covariance_matches_one_hot():
    rng = np.random.default_rng(17)
    v = rng.integers(0, 4, (500, 6))
    labels = rng.integers(0, 3, 500)
    w = rng.uniform(0.1, 2.0, 500)
    U, _ = label_matrix(labels, weights=w)
    expected = label_covariance_matrix(_one_hot(v, 4), U, w)
    assert np.allclose(potts_label_covariance(v, 4, U, w), expected, atol=1e-14)


def test_constraints_and_gauge_hold_together_after_training():
    rng = np.random.default_rng(18)
    labels = rng.integers(0, 2, 1500)
    data = rng.integers(0, 5, (1500, 12))
    data[labels == 1, :4] = rng.choice(5, (int(labels.sum()), 4), p=[.6, .1, .1, .1, .1])
    config = TrainConfig(visible="potts", n_states=5, hidden="gaussian", n_hidden=8,
                         n_free=2, n_epochs=4, batch_size=100, dtype="float64", seed=4)
    rbm, constraints, _ = train(config, data.astype(np.uint8), labels)
    assert constraints.violation(rbm.weights) < 1e-10
    assert np.allclose(rbm.weights.sum(axis=1), 0, atol=1e-10)
    # constrained units' mean inputs are equal across classes
    inputs = rbm.inputs_h_from_v(data)
    gap = inputs[labels == 1].mean(axis=0) - inputs[labels == 0].mean(axis=0)
    assert np.abs(gap[2:]).max() < 1e-8
    assert np.abs(gap[:2]).max() > 0.05


def test_second_order_constraints_on_small_potts_data():
    rng = np.random.default_rng(19)
    data = rng.integers(0, 3, (300, 4))
    labels = rng.integers(0, 2, 300)
    constraints = label_constraints(data, labels, 5, n_free=1, lambda_Q=1.0, n_states=3)
    assert constraints.groups[0].Q.shape == (1, 12, 12)
    with pytest.raises(ValueError, match="one-hot data"):
        label_constraints(data, labels, 5, n_free=1, lambda_Q=1.0, n_states=3,
                          max_Q_bytes=1000)


# files


def test_model_and_checkpoint_round_trip(tmp_path):
    data = _small_potts_data(400)
    config = TrainConfig(visible="potts", n_states=3, hidden="gaussian", n_hidden=4,
                         n_epochs=4, batch_size=50, seed=5)
    rbm, constraints, state = train(config, data, stop_at_update=10)
    save_model(tmp_path / "m.rbm", rbm)
    loaded = load_model(tmp_path / "m.rbm")[0]
    assert isinstance(loaded.visible, Potts)
    assert loaded.visible.q == 3
    assert np.array_equal(loaded.weights, rbm.weights)
    save_checkpoint(tmp_path / "c.rbm", rbm, constraints, state, config)
    checkpoint = load_checkpoint(tmp_path / "c.rbm")
    rbm2, state2 = checkpoint["rbm"], checkpoint["state"]
    assert state2.chains.dtype == np.uint8
    fit(rbm, data, config, state=state)
    fit(rbm2, data, config, state=state2)
    full, _, _ = train(config, data)
    assert np.array_equal(rbm.weights, full.weights)
    assert np.array_equal(rbm2.weights, full.weights)


# thread count


_THREAD_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from rbmfast.config import TrainConfig
    from rbmfast.training import train
    rng = np.random.default_rng(0)
    data = rng.integers(0, 21, (600, 120)).astype(np.uint8)
    config = TrainConfig(visible="potts", n_states=21, hidden="gaussian",
                         n_hidden=70, n_epochs=2, batch_size=300, n_gibbs=3, seed=1)
    rbm, _, state = train(config, data)
    np.savez(sys.argv[1], w=rbm.weights, t=rbm.visible.theta, c=state.chains)
""")


def test_training_thread_count_independent(tmp_path):
    out = {}
    for n in (1, 2):
        env = dict(os.environ, OMP_NUM_THREADS=str(n))
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(tmp_path / f"{n}.npz")],
                       env=env, check=True, timeout=300)
        out[n] = np.load(tmp_path / f"{n}.npz")
    for key in ("w", "t", "c"):
        assert np.array_equal(out[1][key], out[2][key])


# bad input


def test_states_out_of_range_rejected():
    rbm = _rbm()
    with pytest.raises(ValueError, match=r"in \[0, 4\), got 4 at \(sample 1, site 2\)"):
        rbm.free_energy(np.array([[0, 0, 0, 0, 0], [0, 1, 4, 0, 0]]))
    with pytest.raises(ValueError, match="got -1"):
        rbm.inputs_h_from_v(np.array([[0, -1, 0, 0, 0]]))
    with pytest.raises(ValueError, match="whole category indices, got 0.5"):
        rbm.gibbs(np.array([[0, 0.5, 0, 0, 0]]), Stream.from_seed(0))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 5\)"):
        rbm.free_energy(np.zeros((2, 4), int))
    with pytest.raises(TypeError, match="category indices"):
        rbm.free_energy(np.array([["a"] * 5]))


def test_training_rejects_bad_potts_data():
    config = TrainConfig(visible="potts", n_states=3, n_hidden=2, batch_size=2)
    with pytest.raises(ValueError, match=r"in \[0, 3\), got 7"):
        train(config, np.array([[0, 1], [7, 0], [1, 1]]))
    with pytest.raises(ValueError, match="give the number of states"):
        train(TrainConfig(visible="potts", n_hidden=2, batch_size=2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Potts visible layers only"):
        TrainConfig(n_states=3).validate()


def test_layer_construction_errors():
    with pytest.raises(ValueError, match="number of states q"):
        Potts(3, 1)
    with pytest.raises(ValueError, match="give the number of states"):
        Potts(3)
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        Potts(3, 4, theta=np.zeros((3, 5)))
    assert Potts(3, theta=np.zeros((3, 6))).q == 6
    with pytest.raises(TypeError, match="visible layers only"):
        RBM(Binary(3), Potts(2, 3))
    with pytest.raises(ValueError, match=r"weights must have shape \(2, 3, 4\)"):
        RBM(Potts(2, 3), Spin(4), np.zeros((6, 4)))


# log Z


def test_exact_log_partition_matches_joint_enumeration():
    from rbmfast.evaluation.partition import log_partition_exact

    rbm = _rbm(Binary, np.float64, n=3, q=3, M=4, seed=20, scale=0.8)
    v = _all_states(3, 3)
    h = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    minus_e = (-rbm.visible.energy(v)[:, None] - rbm.hidden.energy(h)[None, :]
               + rbm.inputs_h_from_v(v) @ h.T)
    brute = logsumexp(minus_e)
    assert log_partition_exact(rbm, layer="visible") == pytest.approx(brute, abs=1e-12)
    assert log_partition_exact(rbm, layer="hidden") == pytest.approx(brute, abs=1e-12)
    with pytest.raises(ValueError, match=r"3\^3 = 27 states"):
        log_partition_exact(rbm, layer="visible", max_states=20)


def test_ais_brackets_exact_log_partition():
    from rbmfast.evaluation.partition import ais, log_partition_exact, reverse_ais

    rbm = _rbm(Gaussian, np.float64, n=5, q=4, M=3, seed=21, scale=0.6)
    exact = log_partition_exact(rbm)
    data = _states(500, 5, 4, seed=22)
    forward = ais(rbm, n_chains=400, n_betas=300, data=data, seed=1)
    assert abs(forward.log_z - exact) < 4 * forward.std_error + 1e-3
    states = _all_states(5, 4)
    model_samples = states[np.random.default_rng(23).choice(len(states), 400,
                                                            p=_exact_p(rbm))]
    upper = reverse_ais(rbm, model_samples, n_betas=300, seed=2)
    assert upper.log_z > exact - 4 * upper.std_error


# memory


def test_large_alignment_trains_in_little_memory():
    # 20,000 sequences x 1,000 columns: one-hot float32 data alone would take
    # 1.6 GB.  Peak resident memory is deterministic enough for a bound.
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "bench"))
    from bench_potts_memory import measure

    hidden = "drelu" if "drelu" in LAYER_TYPES else "gaussian"
    result = measure(20000, 1000, 200, hidden, updates=3)
    assert result["updates"] == 3
    assert result["peak_rss_mib"] < 1024


def test_gibbs_inplace_rejects_invalid_chains():
    rbm = _rbm(Gaussian, np.float32, M=4)
    v = _states(8, 5, 4)
    h = np.zeros((8, 4), np.float32)
    v[3, 2] = 4
    with pytest.raises(ValueError, match=r"state 4, outside \[0, 4\)"):
        rbm.gibbs_inplace(v, h, Stream.from_seed(0), 1)
    with pytest.raises(ValueError, match="uint8"):
        rbm.gibbs_inplace(v.astype(np.int64), h, Stream.from_seed(0), 1)
