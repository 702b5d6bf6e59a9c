"""Tests of pseudo-likelihood, reconstruction error and clamped sampling."""
import numpy as np
import pytest

from rbmfast.evaluation.pseudolikelihood import pseudolikelihood, reconstruction_error
from rbmfast.evaluation.sampling import class_typical_values, sample_clamped
from rbmfast.layers import Binary, Gaussian, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM


def small_rbm(visible=Binary, hidden=Binary, n=5, m=3, seed=0):
    rng = np.random.default_rng(seed)
    vis = visible(n, dtype=np.float64, theta=rng.normal(size=n))
    hid_params = {"theta": rng.normal(size=m)}
    if hidden is Gaussian:
        hid_params["gamma"] = rng.uniform(1, 2, m)
    hid = hidden(m, dtype=np.float64, **hid_params)
    return RBM(vis, hid, rng.normal(0, 0.7, (n, m)))


def brute_force_pl(rbm, v):
    """(1/N) sum_i log P(v_i | v_-i) from free energies of both values."""
    low = 0.0 if isinstance(rbm.visible, Binary) else -1.0
    out = np.zeros(len(v))
    for i in range(rbm.n_visible):
        a, b = v.copy(), v.copy()
        a[:, i] = low
        b[:, i] = 1.0
        fa, fb = rbm.free_energy(a), rbm.free_energy(b)
        f = rbm.free_energy(v)
        out += -f - np.logaddexp(-fa, -fb)
    return out / rbm.n_visible


@pytest.mark.parametrize("visible", [Binary, Spin])
@pytest.mark.parametrize("hidden", [Binary, Spin, Gaussian])
def test_exact_pl_matches_brute_force(visible, hidden):
    rbm = small_rbm(visible, hidden)
    rng = np.random.default_rng(1)
    v = (rng.random((30, 5)) < 0.5).astype(float)
    if visible is Spin:
        v = 2 * v - 1
    # both sides are float64 sums of a few log terms
    assert np.allclose(pseudolikelihood(rbm, v), brute_force_pl(rbm, v), rtol=1e-10,
                       atol=1e-12)


def test_stochastic_pl_unbiased():
    rbm = small_rbm()
    v = np.tile((np.random.default_rng(2).random((1, 5)) < 0.5).astype(float), (20000, 1))
    exact = pseudolikelihood(rbm, v[:1])[0]
    estimate = pseudolikelihood(rbm, v, exact=False, stream_seed=3)
    # one site per sample: the standard error is std / sqrt(20000)
    se = estimate.std() / np.sqrt(len(estimate))
    assert abs(estimate.mean() - exact) < 5 * se


def test_pl_rejects_gaussian_visible():
    rbm = small_rbm(Gaussian, Binary)
    with pytest.raises(NotImplementedError, match="Binary or Spin visible"):
        pseudolikelihood(rbm, np.zeros((2, 5)))


def test_pl_rejects_invalid_states():
    rbm = small_rbm()
    with pytest.raises(ValueError, match="must be 0 or 1"):
        pseudolikelihood(rbm, np.full((2, 5), 0.5))


def test_reconstruction_error_reference():
    rbm = small_rbm()
    v = (np.random.default_rng(4).random((10, 5)) < 0.5).astype(float)
    h = 1 / (1 + np.exp(-(rbm.hidden.theta + v @ rbm.weights)))
    r = 1 / (1 + np.exp(-(rbm.visible.theta + h @ rbm.weights.T)))
    assert reconstruction_error(rbm, v) == pytest.approx(np.mean((v - r) ** 2),
                                                         rel=1e-12)


def test_clamped_sampling_follows_clamp():
    # With one hidden unit clamped to a large value, the visible units see
    # its weights as a field: their mean moves with the sign of the weights.
    rbm = small_rbm(n=6, m=2, seed=5)
    rbm.weights[:, 0] = [3, 3, 3, -3, -3, -3]
    stream = Stream.from_seed(6)
    v = sample_clamped(rbm, stream, [0], [1.0], n_samples=2000, n_steps=20)
    assert v[:, :3].mean() > 0.8
    assert v[:, 3:].mean() < 0.2


def test_clamped_sampling_from_start():
    rbm = small_rbm(seed=7)
    start = np.ones((50, 5))
    v = sample_clamped(rbm, Stream.from_seed(8), [1], [0.0], start=start, n_steps=3)
    assert v.shape == (50, 5)
    with pytest.raises(ValueError, match="start has 50 rows, expected 10"):
        sample_clamped(rbm, Stream.from_seed(8), [1], [0.0], n_samples=10,
                       start=start)


@pytest.mark.parametrize("n_steps", [0, -1, 2.5])
def test_clamped_sampling_rejects_no_sweeps(n_steps):
    rbm = small_rbm(seed=7)
    message = f"n_steps must be an integer >= 1, got {n_steps}"
    with pytest.raises(ValueError, match=message):
        sample_clamped(rbm, Stream.from_seed(8), [1], [0.0], n_samples=4,
                       n_steps=n_steps)


def test_class_typical_values():
    rbm = small_rbm(seed=9)
    rng = np.random.default_rng(10)
    v = (rng.random((40, 5)) < 0.5).astype(float)
    y = np.repeat(["a", "b"], 20)
    classes, values = class_typical_values(rbm, v, y, [0, 2])
    means = rbm.mean_h_from_v(v)
    assert classes.tolist() == ["a", "b"]
    assert np.allclose(values[1], means[20:, [0, 2]].mean(0))
