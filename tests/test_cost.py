"""Analytic and numerical cost of disentanglement in a Gaussian RBM.

The references are independent of the closed forms under test: scipy's
multivariate normal log density, the model's own free energy and log Z,
the log-likelihood at a weight matrix built from the top eigenvectors, and
an L-BFGS maximisation of L(W).
"""
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from rbmfast.evaluation.cost import (
    constrained_optimal_gain,
    disentanglement_cost,
    gaussian_gain,
    gaussian_log_likelihood,
    numerical_constrained_gain,
    optimal_gain,
)
from rbmfast.evaluation.likelihood import log_likelihood
from rbmfast.evaluation.partition import log_partition_gaussian
from rbmfast.layers import Gaussian
from rbmfast.rbm import RBM

# Relative agreement required between the L-BFGS optimum and the closed form.
# The cases below agreed to about 1e-15 when measured, so this is loose.
NUMERICAL_RTOL = 1e-4

# (N, K, n_hidden, seed) of the random cases.  Each C has eigenvalues on both
# sides of 1, so some directions have zero gain.
CASES = [(6, 1, 1, 0), (6, 2, 2, 1), (7, 1, 3, 2), (8, 2, 3, 3), (8, 3, 4, 4),
         (7, 2, 6, 5)]


def random_covariance(n, rng):
    factor = rng.standard_normal((n, n))
    return 2.0 * factor @ factor.T / n + 0.1 * np.eye(n)


def random_case(n, k, seed):
    rng = np.random.default_rng(seed)
    return random_covariance(n, rng), rng.standard_normal((n, k))


def optimal_weights(C, n_hidden):
    """Build W from the top eigenvectors with singular values sqrt(1 - 1/lambda)."""
    eigenvalues, eigenvectors = np.linalg.eigh(C)
    order = np.argsort(eigenvalues)[::-1][:n_hidden]
    singular_values = np.sqrt(np.maximum(1.0 - 1.0 / eigenvalues[order], 0.0))
    return eigenvectors[:, order] * singular_values


# -- closed form -----------------------------------------------------------------
def test_gaussian_gain_values():
    assert gaussian_gain([1.0, 0.5], 2) == 0.0
    assert gaussian_gain([np.e], 1) == pytest.approx((np.e - 2.0) / 2.0, rel=1e-14)
    # Only the n_hidden largest eigenvalues count, in any input order.
    assert gaussian_gain([2.0, 5.0, 3.0], 2) == pytest.approx(
        (5.0 - 1.0 - np.log(5.0)) / 2.0 + (3.0 - 1.0 - np.log(3.0)) / 2.0, rel=1e-14
    )
    assert gaussian_gain([2.0, 5.0], 0) == 0.0
    assert gaussian_gain([2.0, 5.0], 10) == gaussian_gain([2.0, 5.0], 2)


def test_gaussian_gain_near_one():
    # g(1 + e) = e^2 / 4 - e^3 / 6 + O(e^4), which direct subtraction loses.
    excess = 1e-6
    expected = excess**2 / 4.0 - excess**3 / 6.0
    assert gaussian_gain([1.0 + excess], 1) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("n, k, n_hidden, seed", CASES)
def test_gain_and_cost_nonnegative(n, k, n_hidden, seed):
    C, q = random_case(n, k, seed)
    result = disentanglement_cost(C, q, n_hidden)
    assert result["unconstrained"] >= 0.0
    assert result["constrained"] >= 0.0
    assert result["cost"] >= -1e-12
    assert result["cost"] == result["unconstrained"] - result["constrained"]


def test_cost_zero_for_orthogonal_q():
    rng = np.random.default_rng(10)
    n, n_hidden = 7, 3
    C = random_covariance(n, rng)
    eigenvalues, eigenvectors = np.linalg.eigh(C)
    assert np.sum(eigenvalues > 1.0) >= n_hidden
    # q spans eigenvectors outside the top n_hidden, so ker(q^T) contains them.
    q = eigenvectors[:, :2] @ rng.standard_normal((2, 2))
    result = disentanglement_cost(C, q, n_hidden)
    assert result["unconstrained"] > 0.0
    assert abs(result["cost"]) < 1e-10


def test_cost_positive_for_q_on_top_eigenvector():
    rng = np.random.default_rng(11)
    C = random_covariance(6, rng)
    eigenvalues, eigenvectors = np.linalg.eigh(C)
    result = disentanglement_cost(C, eigenvectors[:, -1], 1)
    # Constraining out the top direction leaves the second one.
    expected = gaussian_gain(eigenvalues[-2:-1], 1)
    assert result["constrained"] == pytest.approx(expected, rel=1e-12)
    assert result["cost"] > 0.0


def test_constrained_gain_rank_deficient_q():
    C, q = random_case(6, 1, 12)
    repeated = np.concatenate([q, 2.0 * q, np.zeros_like(q)], axis=1)
    assert constrained_optimal_gain(C, repeated, 2) == pytest.approx(
        constrained_optimal_gain(C, q, 2), rel=1e-12
    )
    assert constrained_optimal_gain(C, np.zeros((6, 2)), 2) == pytest.approx(
        optimal_gain(C, 2), rel=1e-12
    )


def test_constrained_gain_full_rank_q_is_zero():
    C, q = random_case(5, 5, 13)
    assert constrained_optimal_gain(C, q, 3) == 0.0


def test_constrained_gain_one_dimensional_q():
    C, q = random_case(6, 1, 14)
    assert constrained_optimal_gain(C, q[:, 0], 2) == constrained_optimal_gain(C, q, 2)


# -- log-likelihood --------------------------------------------------------------
def test_log_likelihood_matches_scipy():
    rng = np.random.default_rng(20)
    n, m = 5, 2
    W = rng.standard_normal((n, m))
    W *= 0.8 / np.linalg.norm(W, 2)
    samples = rng.standard_normal((200, n)) @ rng.standard_normal((n, n))
    C = samples.T @ samples / len(samples)
    covariance = np.linalg.inv(np.eye(n) - W @ W.T)
    expected = np.mean(multivariate_normal(np.zeros(n), covariance).logpdf(samples))
    assert gaussian_log_likelihood(W, C) == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_matches_rbm():
    rng = np.random.default_rng(21)
    n, m = 4, 2
    W = rng.standard_normal((n, m))
    W *= 0.7 / np.linalg.norm(W, 2)
    rbm = RBM(Gaussian(n, dtype=np.float64), Gaussian(m, dtype=np.float64), W)
    samples = rng.standard_normal((100, n))
    C = samples.T @ samples / len(samples)
    expected = np.mean(log_likelihood(rbm, samples, log_partition_gaussian(rbm)))
    assert gaussian_log_likelihood(W, C) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("n, k, n_hidden, seed", CASES)
def test_optimal_gain_attained(n, k, n_hidden, seed):
    C, _ = random_case(n, k, seed)
    W = optimal_weights(C, n_hidden)
    baseline = gaussian_log_likelihood(np.zeros((n, 0)), C)
    attained = gaussian_log_likelihood(W, C) - baseline
    assert optimal_gain(C, n_hidden) == pytest.approx(attained, rel=1e-12, abs=1e-14)


def test_optimal_weights_are_stationary():
    C, _ = random_case(6, 1, 22)
    W = optimal_weights(C, 2)
    base = gaussian_log_likelihood(W, C)
    rng = np.random.default_rng(23)
    for _ in range(5):
        step = 1e-4 * rng.standard_normal(W.shape)
        assert gaussian_log_likelihood(W + step, C) < base


# -- numerical optimum -----------------------------------------------------------
@pytest.mark.parametrize("n, k, n_hidden, seed", CASES)
def test_numerical_matches_unconstrained(n, k, n_hidden, seed):
    C, q = random_case(n, k, seed)
    numerical = numerical_constrained_gain(C, q, n_free=n_hidden, n_constrained=0)
    assert numerical == pytest.approx(optimal_gain(C, n_hidden), rel=NUMERICAL_RTOL)


@pytest.mark.parametrize("n, k, n_hidden, seed", CASES)
def test_numerical_matches_constrained(n, k, n_hidden, seed):
    C, q = random_case(n, k, seed)
    numerical, W = numerical_constrained_gain(C, q, n_free=0, n_constrained=n_hidden,
                                              return_weights=True)
    assert numerical == pytest.approx(constrained_optimal_gain(C, q, n_hidden),
                                      rel=NUMERICAL_RTOL)
    assert np.max(np.abs(q.T @ W)) < 1e-10
    assert np.linalg.norm(W, 2) < 1.0


@pytest.mark.parametrize("n, k, n_hidden, seed", [c for c in CASES if c[2] >= 2])
def test_free_units_between_bounds(n, k, n_hidden, seed):
    C, q = random_case(n, k, seed)
    constrained = constrained_optimal_gain(C, q, n_hidden)
    unconstrained = optimal_gain(C, n_hidden)
    slack = NUMERICAL_RTOL * unconstrained
    for n_free in range(1, n_hidden):
        mixed, W = numerical_constrained_gain(C, q, n_free, n_hidden - n_free,
                                              return_weights=True)
        assert mixed >= constrained - slack
        assert mixed <= unconstrained + slack
        assert np.max(np.abs(q.T @ W[:, n_free:])) < 1e-10
        # The attained gain is the model's log-likelihood gain at the returned W.
        attained = gaussian_log_likelihood(W, C) - gaussian_log_likelihood(W[:, :0], C)
        assert mixed == pytest.approx(attained, rel=1e-10)


@pytest.mark.parametrize("n, k, n_hidden, seed", [c for c in CASES if c[2] > c[1]])
def test_free_units_at_rank_no_cost(n, k, n_hidden, seed):
    # n_free = rank(q) free units carry the directions that q^T W = 0 removes.
    C, q = random_case(n, k, seed)
    mixed = numerical_constrained_gain(C, q, n_free=k, n_constrained=n_hidden - k)
    assert mixed == pytest.approx(optimal_gain(C, n_hidden), rel=NUMERICAL_RTOL)


def test_numerical_no_units_is_zero():
    C, q = random_case(6, 1, 30)
    assert numerical_constrained_gain(C, q, 0, 0) == 0.0


# -- input validation -----------------------------------------------------------
def test_rejects_bad_covariance():
    C, q = random_case(5, 1, 40)
    asymmetric = C.copy()
    asymmetric[0, 1] += 0.1
    with pytest.raises(ValueError, match="symmetric"):
        optimal_gain(asymmetric, 2)
    with pytest.raises(ValueError, match="positive definite"):
        optimal_gain(C - 10.0 * np.eye(5), 2)
    with pytest.raises(ValueError, match="square"):
        optimal_gain(C[:, :4], 2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        optimal_gain(np.full((5, 5), np.nan), 2)


def test_rejects_bad_counts():
    C, q = random_case(5, 1, 41)
    for bad in (-1, 1.5, True, None):
        with pytest.raises(ValueError, match="n_hidden"):
            optimal_gain(C, bad)
    with pytest.raises(ValueError, match="n_free"):
        numerical_constrained_gain(C, q, -1, 1)
    with pytest.raises(ValueError, match="n_constrained"):
        numerical_constrained_gain(C, q, 1, 2.0)
    with pytest.raises(ValueError, match="n_restarts"):
        numerical_constrained_gain(C, q, 1, 1, n_restarts=0)


def test_rejects_bad_q():
    C, q = random_case(5, 1, 42)
    with pytest.raises(ValueError, match="q must have shape"):
        constrained_optimal_gain(C, q[:4], 1)
    with pytest.raises(ValueError, match="q must have shape"):
        disentanglement_cost(C, np.zeros((5, 1, 1)), 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        constrained_optimal_gain(C, np.full((5, 1), np.inf), 1)


def test_rejects_bad_eigenvalues():
    with pytest.raises(ValueError, match="positive"):
        gaussian_gain([2.0, 0.0], 1)
    with pytest.raises(ValueError, match="1-D"):
        gaussian_gain(np.eye(2), 1)


def test_log_likelihood_rejects_large_weights():
    C, _ = random_case(4, 1, 43)
    W = np.zeros((4, 2))
    W[0, 0] = 1.25
    with pytest.raises(ValueError, match="largest singular value of W is 1.25"):
        gaussian_log_likelihood(W, C)
    with pytest.raises(ValueError, match="W must have shape"):
        gaussian_log_likelihood(np.zeros((3, 2)), C)
