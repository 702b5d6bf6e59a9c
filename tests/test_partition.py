"""Exact, closed-form and AIS log partition functions, and the log-likelihood.

References are independent float64 numpy sums over the joint states, numpy
free energies and scipy.integrate quadratures.  Every AIS run has a fixed
seed, so the AIS checks give the same numbers on every run.
"""
import itertools

import numpy as np
import pytest
from scipy import integrate
from scipy.special import logsumexp

from rbmfast.evaluation.likelihood import log_likelihood, log_likelihood_per_site
from rbmfast.evaluation.partition import (
    AISResult,
    ais,
    log_partition_exact,
    log_partition_gaussian,
    reverse_ais,
)
from rbmfast.layers import Binary, DReLU, Gaussian, ReLU, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM

# Absolute slack of the AIS checks, in nats, on top of 4 standard errors.  It
# covers the Jensen bias of log(mean(w)), about std_error^2 / 2 (below 1e-3
# here), and the float32 rounding of the free energies summed over 1000
# inverse temperatures (estimated at 1e-3).
AIS_ATOL = 0.01


def _layer(cls, n, rng, dtype=np.float64, field_scale=0.5):
    params = {name: rng.normal(0.0, field_scale, n) for name in cls.field_names}
    for name in cls.precision_names:
        params[name] = rng.uniform(1.0, 2.0, n)
    return cls(n, dtype=dtype, **params)


def _random_rbm(visible, hidden, n_visible, n_hidden, weight_scale, seed=0,
                dtype=np.float64):
    rng = np.random.default_rng(seed)
    return RBM(_layer(visible, n_visible, rng, dtype),
               _layer(hidden, n_hidden, rng, dtype),
               rng.normal(0.0, weight_scale, (n_visible, n_hidden)))


def _all_states(layer):
    return np.array(list(itertools.product(layer.states, repeat=layer.n)))


def _joint_log_z(rbm):
    """log Z by summing exp(-E(v, h)) over every joint state, in numpy."""
    v = _all_states(rbm.visible)
    h = _all_states(rbm.hidden)
    theta_v = rbm.visible.theta.astype(np.float64)
    theta_h = rbm.hidden.theta.astype(np.float64)
    weights = rbm.weights.astype(np.float64)
    minus_energy = (v @ theta_v)[:, None] + (h @ theta_h)[None, :] + v @ weights @ h.T
    return logsumexp(minus_energy)


def _gaussian_hidden_free_energy(rbm, v):
    """F(v) of a discrete-visible, Gaussian-hidden RBM, from the Gaussian integral."""
    field = rbm.hidden.theta + v @ rbm.weights
    gamma = rbm.hidden.gamma
    log_integral = np.sum(field**2 / (2 * gamma) + 0.5 * np.log(2 * np.pi / gamma),
                          axis=-1)
    return -(v @ rbm.visible.theta) - log_integral


# -- exact enumeration ---------------------------------------------------------
@pytest.mark.parametrize("visible", [Binary, Spin])
@pytest.mark.parametrize("hidden", [Binary, Spin])
@pytest.mark.parametrize("layer", ["auto", "visible", "hidden"])
def test_exact_matches_joint_sum(visible, hidden, layer):
    rbm = _random_rbm(visible, hidden, 4, 3, weight_scale=1.0)
    expected = _joint_log_z(rbm)
    assert log_partition_exact(rbm, layer=layer) == pytest.approx(expected, rel=1e-12)


def test_exact_layers_agree_over_many_chunks():
    # The 2^20 visible states are enumerated in 16 chunks, the hidden sum has 2^8.
    rbm = _random_rbm(Binary, Binary, 20, 8, weight_scale=1.0, seed=3)
    by_visible = log_partition_exact(rbm, layer="visible")
    by_hidden = log_partition_exact(rbm, layer="hidden")
    assert by_visible == pytest.approx(by_hidden, rel=1e-12)


def test_exact_float32_model_uses_float64():
    rbm32 = _random_rbm(Spin, Binary, 6, 4, weight_scale=1.0, dtype=np.float32)
    expected = _joint_log_z(rbm32.astype(np.float64))
    assert log_partition_exact(rbm32) == pytest.approx(expected, rel=1e-12)


def test_exact_gaussian_hidden_binary_visible():
    rbm = _random_rbm(Binary, Gaussian, 5, 2, weight_scale=0.5, seed=1)
    v = _all_states(rbm.visible)
    expected = logsumexp(-_gaussian_hidden_free_energy(rbm, v))
    assert log_partition_exact(rbm) == pytest.approx(expected, rel=1e-12)

    # One free energy by quadrature: F(v) = -theta_v . v - log of the integral
    # over h of exp(-U_h(h) + (v W) . h).
    state = v[13]
    field = rbm.hidden.theta + state @ rbm.weights
    gamma = rbm.hidden.gamma

    def integrand(h1, h0):
        h = np.array([h0, h1])
        return np.exp(-np.sum(gamma * h**2) / 2 + field @ h)

    integral, _ = integrate.dblquad(integrand, -15, 15, -15, 15, epsabs=1e-12)
    quadrature_free = -(state @ rbm.visible.theta) - np.log(integral)
    assert rbm.free_energy(state[None])[0] == pytest.approx(quadrature_free, rel=1e-8)
    assert _gaussian_hidden_free_energy(rbm, state) == pytest.approx(quadrature_free,
                                                                     rel=1e-8)


def test_exact_gaussian_visible_by_quadrature():
    # Z = integral over v of exp(-F(v)), F from the Binary hidden cgf.
    rbm = _random_rbm(Gaussian, Binary, 1, 3, weight_scale=1.0, seed=2)
    gamma, theta = rbm.visible.gamma[0], rbm.visible.theta[0]
    theta_h, weights = rbm.hidden.theta, rbm.weights[0]

    def density(x):
        hidden_cgf = np.sum(np.logaddexp(0.0, theta_h + x * weights))
        return np.exp(-gamma * x**2 / 2 + theta * x + hidden_cgf)

    z, _ = integrate.quad(density, -30, 30, epsabs=1e-13, limit=200)
    assert log_partition_exact(rbm) == pytest.approx(np.log(z), rel=1e-9)


def test_exact_rejects_beyond_max_states():
    rbm = _random_rbm(Binary, Binary, 21, 21, weight_scale=0.1)
    with pytest.raises(ValueError, match=r"2\^21 = 2097152 states.*max_states=1048576"):
        log_partition_exact(rbm)

    small = _random_rbm(Binary, Binary, 4, 3, weight_scale=1.0)
    with pytest.raises(ValueError, match=r"2\^3 = 8 states.*max_states=4"):
        log_partition_exact(small, max_states=4)
    assert np.isfinite(log_partition_exact(small, max_states=8))


def test_exact_rejects_gaussian_layers():
    both = _random_rbm(Gaussian, Gaussian, 2, 2, weight_scale=0.1)
    with pytest.raises(ValueError, match="log_partition_gaussian"):
        log_partition_exact(both)
    hidden_gaussian = _random_rbm(Binary, Gaussian, 2, 2, weight_scale=0.1)
    with pytest.raises(ValueError, match="hidden layer is real-valued"):
        log_partition_exact(hidden_gaussian, layer="hidden")
    with pytest.raises(ValueError, match="layer must be"):
        log_partition_exact(hidden_gaussian, layer="both")


# -- Gaussian closed form -----------------------------------------------------------
def test_gaussian_closed_form_1x1_by_quadrature():
    rbm = RBM(Gaussian(1, dtype=np.float64, theta=[0.4], gamma=[1.5]),
              Gaussian(1, dtype=np.float64, theta=[-0.3], gamma=[0.8]),
              [[0.6]])

    def joint(h, v):
        return np.exp(-1.5 * v**2 / 2 + 0.4 * v - 0.8 * h**2 / 2 - 0.3 * h
                      + 0.6 * v * h)

    z, _ = integrate.dblquad(joint, -40, 40, -40, 40, epsabs=1e-12)
    assert log_partition_gaussian(rbm) == pytest.approx(np.log(z), rel=1e-9)


def test_gaussian_closed_form_2x1_by_quadrature():
    # Z = integral over v of exp(-F(v)), F from the Gaussian hidden integral.
    rbm = RBM(Gaussian(2, dtype=np.float64, theta=[0.4, -0.2], gamma=[1.5, 1.1]),
              Gaussian(1, dtype=np.float64, theta=[0.3], gamma=[0.9]),
              [[0.5], [-0.4]])
    gamma_v, theta_v = rbm.visible.gamma, rbm.visible.theta

    def density(v1, v0):
        v = np.array([v0, v1])
        field = 0.3 + v @ rbm.weights[:, 0]
        log_hidden = field**2 / (2 * 0.9) + 0.5 * np.log(2 * np.pi / 0.9)
        return np.exp(-np.sum(gamma_v * v**2) / 2 + theta_v @ v + log_hidden)

    z, _ = integrate.dblquad(density, -25, 25, -25, 25, epsabs=1e-12)
    assert log_partition_gaussian(rbm) == pytest.approx(np.log(z), rel=1e-8)


def test_gaussian_indefinite_detected():
    # Precision [[1, -2], [-2, 1]] has eigenvalues 3 and -1.
    rbm = RBM(Gaussian(1, dtype=np.float64), Gaussian(1, dtype=np.float64), [[2.0]])
    with pytest.raises(ValueError, match=r"smallest eigenvalue -1\b"):
        log_partition_gaussian(rbm)
    assert log_partition_gaussian(rbm, on_indefinite="inf") == np.inf
    with pytest.raises(ValueError, match="on_indefinite must be"):
        log_partition_gaussian(rbm, on_indefinite="nan")


def test_gaussian_closed_form_rejects_discrete_layer():
    rbm = _random_rbm(Binary, Gaussian, 3, 2, weight_scale=0.1)
    with pytest.raises(ValueError, match="log_partition_exact"):
        log_partition_gaussian(rbm)


# -- AIS --------------------------------------------------------------------------
def _assert_close_to_exact(result, exact):
    error = abs(result.log_z - exact)
    assert np.isfinite(result.std_error)
    assert error <= 4 * result.std_error + AIS_ATOL, (
        f"AIS log Z {result.log_z:.4f} +- {result.std_error:.4f}, exact {exact:.4f}"
    )


def test_ais_binary_matches_exact():
    # Weights of standard deviation 1.5 give hidden inputs of standard
    # deviation about 4.5 when half of the 18 units are on, and a log Z of 34.7,
    # far from the base's (18 + 8) log 2 = 18.0.
    rbm = _random_rbm(Binary, Binary, 18, 8, weight_scale=1.5, seed=5,
                      dtype=np.float32)
    exact = log_partition_exact(rbm)
    result = ais(rbm, n_chains=100, n_betas=1000, seed=0)
    assert isinstance(result, AISResult)
    assert result.log_weights.shape == (100,)
    assert result.samples.shape == (100, 18)
    assert result.log_z_base == pytest.approx(26 * np.log(2), rel=1e-12)
    _assert_close_to_exact(result, exact)

    data, _ = rbm.gibbs(result.samples, Stream.from_seed(1), n_steps=10)
    fitted = ais(rbm, n_chains=100, n_betas=1000, data=data, seed=1)
    _assert_close_to_exact(fitted, exact)


@pytest.mark.parametrize("visible, hidden, weight_scale", [
    (Spin, Spin, 0.5),
    (Binary, Gaussian, 0.5),
    (Binary, ReLU, 0.5),
    (Spin, DReLU, 0.5),
    (Gaussian, Binary, 0.5),
    (Gaussian, Gaussian, 0.15),
])
def test_ais_other_layers_match_exact(visible, hidden, weight_scale):
    rbm = _random_rbm(visible, hidden, 12, 6, weight_scale, seed=4)
    if visible is Gaussian and hidden is Gaussian:
        exact = log_partition_gaussian(rbm)
    else:
        exact = log_partition_exact(rbm)
    _assert_close_to_exact(ais(rbm, n_betas=1000, seed=0), exact)


def test_reverse_ais_not_below_forward():
    rbm = _random_rbm(Binary, Binary, 16, 8, weight_scale=1.5, seed=2)
    exact = log_partition_exact(rbm)
    states = _all_states(rbm.visible)
    probabilities = np.exp(-rbm.free_energy(states) - exact)
    forward, reverse = [], []
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        model_samples = states[rng.choice(len(states), 100, p=probabilities)]
        backward = reverse_ais(rbm, model_samples, n_betas=1000, seed=seed)
        _assert_close_to_exact(backward, exact)
        reverse.append(backward)
        forward.append(ais(rbm, n_betas=1000, seed=seed))
    mean_forward = np.mean([r.log_z for r in forward])
    mean_reverse = np.mean([r.log_z for r in reverse])
    # Standard error of the difference of the two means of 4 runs.
    spread = np.sqrt(np.sum([r.std_error**2 for r in forward + reverse])) / 4
    assert mean_reverse >= mean_forward - 4 * spread - AIS_ATOL


def test_reverse_ais_base_fitted_to_data():
    rbm = _random_rbm(Binary, Binary, 6, 3, weight_scale=1.0)
    data = np.random.default_rng(0).integers(0, 2, (20, 6))
    result = reverse_ais(rbm, data, n_betas=10)
    fitted_base = Binary(6, dtype=np.float64)
    fitted_base.init_from_data(data)
    expected_base = np.sum(np.logaddexp(0.0, fitted_base.theta)) + 3 * np.log(2)
    assert result.log_z_base == pytest.approx(expected_base, rel=1e-12)
    with pytest.raises(ValueError, match="data of a Binary layer"):
        reverse_ais(rbm, data * 2, n_betas=10)


@pytest.mark.parametrize("betas, message", [
    ([0.1, 0.5, 1.0], "start at 0 and end at 1"),
    ([0.0, 0.5, 0.9], "start at 0 and end at 1"),
    ([0.0, 0.6, 0.4, 1.0], "non-decreasing, got 0.6 then 0.4"),
    ([0.0, np.nan, 1.0], "non-finite"),
    ([1.0], "at least 2 values"),
    ([[0.0, 1.0]], "1-D array"),
])
def test_ais_rejects_bad_schedule(betas, message):
    rbm = _random_rbm(Binary, Binary, 4, 3, weight_scale=1.0)
    with pytest.raises(ValueError, match=message):
        ais(rbm, betas=betas)
    with pytest.raises(ValueError, match=message):
        reverse_ais(rbm, np.zeros((2, 4)), betas=betas)


def test_ais_rejects_bad_arguments():
    rbm = _random_rbm(Binary, Binary, 4, 3, weight_scale=1.0)
    with pytest.raises(ValueError, match="n_betas must be at least 2"):
        ais(rbm, n_betas=1)
    with pytest.raises(TypeError, match="not both"):
        ais(rbm, n_betas=10, betas=[0.0, 1.0])
    with pytest.raises(ValueError, match="n_chains must be a positive integer"):
        ais(rbm, n_chains=0)
    with pytest.raises(ValueError, match="base must be a Binary layer of 4 units"):
        ais(rbm, base=Spin(4))
    with pytest.raises(ValueError, match="base must be a Binary layer of 4 units"):
        ais(rbm, base=Binary(5))
    improper = RBM(Gaussian(1, dtype=np.float64), Gaussian(1, dtype=np.float64),
                   [[2.0]])
    with pytest.raises(ValueError, match="not positive definite"):
        ais(improper)
    with pytest.raises(ValueError, match="not positive definite"):
        reverse_ais(improper, np.zeros((2, 1)))


def test_ais_repeated_betas_allowed():
    rbm = _random_rbm(Binary, Binary, 4, 3, weight_scale=1.0)
    result = ais(rbm, betas=[0.0, 0.5, 0.5, 1.0, 1.0])
    assert np.isfinite(result.log_z)


def test_ais_same_seed_same_result():
    rbm = _random_rbm(Binary, Spin, 10, 5, weight_scale=1.0, dtype=np.float32)
    first = ais(rbm, n_chains=50, n_betas=200, seed=7, n_threads=1)
    again = ais(rbm, n_chains=50, n_betas=200, seed=7, n_threads=2)
    other = ais(rbm, n_chains=50, n_betas=200, seed=8)
    np.testing.assert_array_equal(first.log_weights, again.log_weights)
    np.testing.assert_array_equal(first.samples, again.samples)
    assert first.log_z == again.log_z
    assert not np.array_equal(first.log_weights, other.log_weights)

    data = first.samples[:20]
    back = reverse_ais(rbm, data, n_betas=200, seed=7)
    back_again = reverse_ais(rbm, data, n_betas=200, seed=7)
    np.testing.assert_array_equal(back.log_weights, back_again.log_weights)


def test_ais_progress_bar(capsys):
    rbm = _random_rbm(Binary, Binary, 4, 3, weight_scale=1.0)
    quiet = ais(rbm, n_betas=20, seed=0)
    with_bar = ais(rbm, n_betas=20, seed=0, progress=True)
    assert "19/19" in capsys.readouterr().err
    assert with_bar.log_z == quiet.log_z


# -- log-likelihood -------------------------------------------------------------
@pytest.mark.parametrize("visible", [Binary, Spin])
def test_log_likelihood_normalised(visible):
    rbm = _random_rbm(visible, Binary, 6, 3, weight_scale=1.0)
    states = _all_states(rbm.visible)
    log_z = log_partition_exact(rbm)
    log_p = log_likelihood(rbm, states, log_z)
    assert log_p.shape == (64,)
    assert logsumexp(log_p) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(log_likelihood_per_site(rbm, states, log_z),
                               log_p / 6, rtol=1e-14)


def test_log_likelihood_gaussian_density_integrates_to_one():
    rbm = RBM(Gaussian(1, dtype=np.float64, theta=[0.4], gamma=[1.5]),
              Gaussian(1, dtype=np.float64, theta=[-0.3], gamma=[0.8]), [[0.6]])
    log_z = log_partition_gaussian(rbm)

    def density(x):
        return np.exp(log_likelihood(rbm, [[x]], log_z)[0])

    total, _ = integrate.quad(density, -30, 30, epsabs=1e-12)
    assert total == pytest.approx(1.0, rel=1e-9)


def test_log_likelihood_rejects_infinite_log_z():
    rbm = _random_rbm(Binary, Binary, 4, 3, weight_scale=1.0)
    with pytest.raises(ValueError, match="log_z must be finite, got inf"):
        log_likelihood(rbm, np.zeros((1, 4)), np.inf)
