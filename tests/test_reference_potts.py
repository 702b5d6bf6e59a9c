"""Tests for bench/reference_potts.py: each reference PCD-k update of a
Potts-Binary RBM computes the same hidden inputs, gradients and sampling
distributions as a direct one-hot computation."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import reference_potts as ref  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
REFERENCES = [
    "numpy",
    pytest.param("torch", marks=pytest.mark.skipif(not HAS_TORCH,
                                                   reason="torch is not installed")),
]

L, Q, M = 7, 5, 4


def make_reference(name, n_chains=6, k=2, seed=0):
    rng = np.random.default_rng(seed)
    weights = 0.5 * rng.standard_normal((L, Q, M))
    theta_v = rng.standard_normal((L, Q))
    theta_h = rng.standard_normal(M)
    cls = ref.NumpyPotts if name == "numpy" else ref.TorchPotts
    return cls(weights, theta_v, theta_h, n_chains, k, lr=1e-3, seed=seed)


def parameters(reference):
    """Return (W, theta_v, theta_h) of a reference as float64 numpy arrays."""
    values = []
    for parameter in (reference.W, reference.theta_v, reference.theta_h):
        if not isinstance(parameter, np.ndarray):
            parameter = parameter.detach().numpy()
        values.append(np.array(parameter, dtype=np.float64))
    return values


def chains_of(reference):
    chains = reference.chains
    return chains if isinstance(chains, np.ndarray) else chains.numpy()


def direct_one_hot(states, n_states=Q):
    """One-hot (n, L, q) array built by loops, independent of ref.one_hot."""
    encoded = np.zeros(states.shape + (n_states,))
    for row in range(states.shape[0]):
        for site in range(states.shape[1]):
            encoded[row, site, states[row, site]] = 1.0
    return encoded


def direct_hidden_inputs(weights, states):
    return np.einsum("nia,iam->nm", direct_one_hot(states), weights)


def direct_gradients(weights, theta_h, x, chains):
    """Gradients of the negative log-likelihood, chains minus data."""
    data, model = direct_one_hot(x), direct_one_hot(chains)
    p_data = 1 / (1 + np.exp(-(np.einsum("nia,iam->nm", data, weights) + theta_h)))
    p_model = 1 / (1 + np.exp(-(np.einsum("nia,iam->nm", model, weights) + theta_h)))
    grad_w = (np.einsum("nia,nm->iam", model, p_model) / len(chains)
              - np.einsum("nia,nm->iam", data, p_data) / len(x))
    grad_v = model.mean(axis=0) - data.mean(axis=0)
    grad_h = p_model.mean(axis=0) - p_data.mean(axis=0)
    return grad_w, grad_v, grad_h


@pytest.fixture
def states():
    rng = np.random.default_rng(1)
    x = rng.integers(0, Q, (9, L)).astype(np.uint8)
    chains = rng.integers(0, Q, (6, L)).astype(np.uint8)
    return x, chains


def test_one_hot_layout():
    states = np.array([[2, 0], [1, 3]], dtype=np.uint8)
    encoded = ref.one_hot(states, 4)
    assert encoded.dtype == np.float32
    # Column i q + a is state a at site i.
    np.testing.assert_array_equal(encoded, direct_one_hot(states, 4).reshape(2, 8))


@pytest.mark.parametrize("name", REFERENCES)
def test_hidden_inputs_match_direct(name, states):
    reference = make_reference(name)
    weights, _, _ = parameters(reference)
    x, _ = states
    np.testing.assert_allclose(reference.hidden_inputs(x),
                               direct_hidden_inputs(weights, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", REFERENCES)
def test_gradients_match_direct(name, states):
    reference = make_reference(name)
    weights, _, theta_h = parameters(reference)
    x, chains = states
    got = reference.gradients(x, chains)
    expected = direct_gradients(weights, theta_h, x, chains)
    for label, value, target in zip(("W", "theta_v", "theta_h"), got, expected):
        assert value.shape == target.shape, label
        np.testing.assert_allclose(value, target, rtol=1e-5, atol=1e-6, err_msg=label)


def test_numpy_and_torch_gradients_agree(states):
    if not HAS_TORCH:
        pytest.skip("torch is not installed")
    x, chains = states
    numpy_grads = make_reference("numpy").gradients(x, chains)
    torch_grads = make_reference("torch").gradients(x, chains)
    for numpy_grad, torch_grad in zip(numpy_grads, torch_grads):
        np.testing.assert_allclose(numpy_grad, torch_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", REFERENCES)
def test_visible_draws_follow_softmax(name):
    reference = make_reference(name, seed=3)
    weights, theta_v, _ = parameters(reference)
    rng = np.random.default_rng(4)
    hidden = np.repeat((rng.random((1, M)) < 0.5).astype(np.float32), 40000, axis=0)
    draws = reference.sample_visible(hidden)
    assert draws.dtype == np.uint8
    assert draws.shape == (40000, L)
    logits = theta_v + np.einsum("iam,m->ia", weights, hidden[0])
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    for site in range(L):
        frequencies = np.bincount(draws[:, site], minlength=Q) / len(draws)
        # Five binomial standard deviations: the seeded draws are fixed, and
        # a wrong sampler (an off-by-one state, unnormalised logits) is off
        # by far more.
        tolerance = 5 * np.sqrt(expected[site] * (1 - expected[site]) / len(draws))
        assert np.all(np.abs(frequencies - expected[site]) <= tolerance + 1e-12), site


def test_numpy_hidden_draws_follow_sigmoid():
    reference = make_reference("numpy", seed=5)
    weights, _, theta_h = parameters(reference)
    states = np.repeat(np.arange(L, dtype=np.uint8)[None, :] % Q, 40000, axis=0)
    draws = reference.sample_hidden(states)
    expected = 1 / (1 + np.exp(-(direct_hidden_inputs(weights, states[:1])[0]
                                 + theta_h)))
    tolerance = 5 * np.sqrt(expected * (1 - expected) / len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - expected) <= tolerance)


@pytest.mark.parametrize("name", REFERENCES)
def test_update_takes_adam_step(name, states):
    reference = make_reference(name, k=3)
    before = parameters(reference)
    x, _ = states
    reference.update(x)
    after = parameters(reference)
    chains = chains_of(reference)
    assert chains.shape == (6, L)
    assert chains.min() >= 0
    assert chains.max() < Q
    grads = [np.asarray(g, dtype=np.float64) for g in reference.last_gradients]
    # The gradients stored by the update are those of the data and the new
    # chains.
    expected = direct_gradients(before[0], before[2], x, chains)
    for grad, target in zip(grads, expected):
        np.testing.assert_allclose(grad, target, rtol=1e-5, atol=1e-6)
    # Adam's first bias-corrected step is lr g / (|g| + eps), with eps = 1e-8.
    for old, new, grad in zip(before, after, grads):
        step = -1e-3 * grad / (np.abs(grad) + 1e-8)
        np.testing.assert_allclose(new - old, step, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("name", REFERENCES)
def test_chains_move_over_updates(name, states):
    reference = make_reference(name, n_chains=50, k=1)
    first = chains_of(reference).copy()
    x, _ = states
    for _ in range(3):
        reference.update(x)
    assert not np.array_equal(chains_of(reference), first)


def test_bare_operations_match_direct(states):
    bare = ref.BarePotts(L, Q, M, batch_size=6, k=2, seed=0)
    weights = bare.W.astype(np.float64)
    x, chains = states
    np.testing.assert_allclose(bare.hidden_inputs(x), direct_hidden_inputs(weights, x),
                               rtol=1e-5, atol=1e-5)
    hidden = np.random.default_rng(2).random((len(chains), M)).astype(np.float32)
    expected = np.einsum("nia,nm->iam", direct_one_hot(chains), hidden)
    np.testing.assert_allclose(bare.weight_scatter(chains, hidden), expected,
                               rtol=1e-5, atol=1e-6)
    # The bare update needs minibatches of batch_size rows.
    bare.update(x[:6])
    assert ref.operation_count(2) == (4, 2, 2)
