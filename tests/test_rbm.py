"""RBM energies, free energies, gradient and optimiser kernels, Gibbs runs.

References are float64 numpy evaluated on the dtype-cast parameters, so a
float32 difference comes only from float32 arithmetic in the kernels.
"""
import itertools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import relu_reference

from rbmfast._kernels import _gradient, _optim
from rbmfast.layers import Binary, DReLU, Gaussian, ReLU, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM

LAYERS = [Binary, Spin, Gaussian]
# ReLU and dReLU are hidden layers; their references come from relu_reference
HIDDEN = LAYERS + [ReLU, DReLU]
RELU_LAYERS = (ReLU, DReLU)
DTYPES = [np.float32, np.float64]



def _eps(dtype):
    return float(np.finfo(dtype).eps)


def _make_layer(cls, n, dtype, rng):
    params = {name: rng.normal(0.0, 1.0, n) for name in cls.field_names}
    for name in cls.precision_names:
        params[name] = rng.uniform(0.8, 2.0, n)
    return cls(n, dtype=dtype, **params)


def _make_rbm(vis_cls, hid_cls, dtype, n_visible=6, n_hidden=4, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    visible = _make_layer(vis_cls, n_visible, dtype, rng)
    hidden = _make_layer(hid_cls, n_hidden, dtype, rng)
    weights = rng.normal(0.0, scale, (n_visible, n_hidden))
    if hid_cls is Gaussian:
        # p(v) is normalisable when gamma_mu exceeds the hidden unit's input
        # variance; small weights keep Gaussian-Gaussian machines proper.
        weights *= 0.3
    return RBM(visible, hidden, weights)


def _states(layer, n_samples, rng):
    if layer.states is None:
        x = rng.normal(0.0, 1.0, (n_samples, layer.n))
        if layer.minimum is not None:
            x = layer.minimum + np.abs(x)
    else:
        x = rng.choice(np.array(layer.states), (n_samples, layer.n))
    return x.astype(layer.dtype)


def _f64(a):
    """Return a float64 copy, never a view of a float64 array a kernel updates."""
    return np.array(a, dtype=np.float64)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _field_magnitude(layer):
    """Return max |theta_f| over the layer's fields f (dReLU has two)."""
    return np.max([np.abs(_f64(getattr(layer, name))) for name in layer.field_names],
                  axis=0)


def reference_energy_units(layer, x):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_energy_units(layer, x)
    x = _f64(x)
    u = -_f64(layer.theta) * x
    if isinstance(layer, Gaussian):
        u = u + 0.5 * _f64(layer.gamma) * x**2
    return u


def reference_cgf_units(layer, inputs):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["cgf"]
    x = _f64(layer.theta) + _f64(inputs)
    if isinstance(layer, Binary):
        return np.logaddexp(0.0, x)
    if isinstance(layer, Spin):
        return np.logaddexp(x, -x)
    g = _f64(layer.gamma)
    return x**2 / (2 * g) + 0.5 * np.log(2 * np.pi / g)


def reference_mean(layer, inputs):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["mean"]
    x = _f64(layer.theta) + _f64(inputs)
    if isinstance(layer, Binary):
        return _sigmoid(x)
    if isinstance(layer, Spin):
        return np.tanh(x)
    return x / _f64(layer.gamma)


def reference_var(layer, inputs):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["var"]
    x = _f64(layer.theta) + _f64(inputs)
    if isinstance(layer, Binary):
        p = _sigmoid(x)
        return p * (1.0 - p)
    if isinstance(layer, Spin):
        return 1.0 - np.tanh(x) ** 2
    return np.broadcast_to(1.0 / _f64(layer.gamma), x.shape)


def reference_free_energy(rbm, v):
    inputs = _f64(v) @ _f64(rbm.weights)
    u_v = reference_energy_units(rbm.visible, v).sum(axis=1)
    return u_v - reference_cgf_units(rbm.hidden, inputs).sum(axis=1)


def free_energy_tolerance(rbm, v):
    """Return the per-row tolerance of F(v) in the RBM's dtype.

    I = v W is a dot product of N terms in the dtype, which is off by at most
    N ulp of sum_i |v_i W_i mu|; F moves by |E[h_mu]| times that.  The energy
    and cgf terms are summed in float64 from dtype values and get 8 ulp of
    their magnitudes for rounding of the per-unit terms.
    """
    eps = _eps(rbm.dtype)
    inputs = _f64(v) @ _f64(rbm.weights)
    input_magnitude = np.abs(_f64(v)) @ np.abs(_f64(rbm.weights))
    input_magnitude = input_magnitude + _field_magnitude(rbm.hidden)
    slope = np.abs(reference_mean(rbm.hidden, inputs))
    terms = (np.abs(reference_energy_units(rbm.visible, v)).sum(axis=1)
             + np.abs(reference_cgf_units(rbm.hidden, inputs)).sum(axis=1))
    n_visible = rbm.n_visible
    return 8 * eps * terms + (n_visible + 2) * eps * (slope * input_magnitude).sum(axis=1)


# free energy


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
@pytest.mark.parametrize("vis_cls", LAYERS)
def test_free_energy_matches_numpy(vis_cls, hid_cls, dtype):
    rbm = _make_rbm(vis_cls, hid_cls, dtype)
    v = _states(rbm.visible, 40, np.random.default_rng(1))
    out = rbm.free_energy(v)
    assert out.dtype == np.float64
    assert out.shape == (40,)
    error = np.abs(out - reference_free_energy(rbm, v))
    assert np.all(error <= free_energy_tolerance(rbm, v))


def _brute_force_free_energy(rbm, v):
    """Return -log sum_h exp(-E(v, h)) over all discrete hidden states."""
    hidden_states = np.array(list(itertools.product(rbm.hidden.states,
                                                    repeat=rbm.n_hidden)))
    u_v = reference_energy_units(rbm.visible, v).sum(axis=1)
    u_h = reference_energy_units(rbm.hidden, hidden_states).sum(axis=1)
    coupling = _f64(v) @ _f64(rbm.weights) @ hidden_states.T
    minus_energy = -(u_v[:, None] + u_h[None, :]) + coupling
    shift = minus_energy.max(axis=1)
    return -(shift + np.log(np.exp(minus_energy - shift[:, None]).sum(axis=1)))


@pytest.mark.parametrize("hid_cls", [Binary, Spin])
@pytest.mark.parametrize("vis_cls", LAYERS)
def test_free_energy_brute_force(vis_cls, hid_cls):
    rbm = _make_rbm(vis_cls, hid_cls, np.float64, n_hidden=4)
    v = _states(rbm.visible, 20, np.random.default_rng(2))
    # A log-sum-exp of 16 float64 terms is accurate to a few ulp of F.
    expected = _brute_force_free_energy(rbm, v)
    assert np.allclose(rbm.free_energy(v), expected, rtol=1e-12, atol=1e-12)


def _quadrature_free_energy(rbm, v, n_points=401, half_width=12.0):
    """Return -log of the 2-D trapezoid integral of exp(-E(v, h)) over h."""
    assert rbm.n_hidden == 2
    gamma = _f64(rbm.hidden.gamma)
    theta = _f64(rbm.hidden.theta)
    out = np.empty(v.shape[0])
    for b in range(v.shape[0]):
        inputs = _f64(v[b]) @ _f64(rbm.weights)
        centre = (theta + inputs) / gamma
        axes = [np.linspace(c - half_width / np.sqrt(g), c + half_width / np.sqrt(g),
                            n_points) for c, g in zip(centre, gamma)]
        h0, h1 = np.meshgrid(axes[0], axes[1], indexing="ij")
        h = np.stack([h0.ravel(), h1.ravel()], axis=1)
        energy = (reference_energy_units(rbm.visible, v[b:b + 1]).sum()
                  + reference_energy_units(rbm.hidden, h).sum(axis=1)
                  - h @ inputs)
        shift = (-energy).max()
        integrand = np.exp(-energy - shift).reshape(n_points, n_points)
        integral = np.trapezoid(np.trapezoid(integrand, axes[1], axis=1), axes[0])
        out[b] = -(shift + np.log(integral))
    return out


@pytest.mark.parametrize("vis_cls", LAYERS)
def test_free_energy_gaussian_quadrature(vis_cls):
    rbm = _make_rbm(vis_cls, Gaussian, np.float64, n_hidden=2)
    v = _states(rbm.visible, 4, np.random.default_rng(3))
    # The grid spans +-12 standard deviations (truncation e^-72) with steps of
    # 0.06 standard deviations, where the trapezoid rule on a Gaussian is
    # exact to far below rounding, so only the rounding of the 160801-term
    # sums remains, well under 1e-10.
    expected = _quadrature_free_energy(rbm, v)
    assert np.allclose(rbm.free_energy(v), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("hid_cls", HIDDEN)
@pytest.mark.parametrize("vis_cls", LAYERS)
def test_free_energy_float32_matches_float64(vis_cls, hid_cls):
    rbm32 = _make_rbm(vis_cls, hid_cls, np.float32)
    rbm64 = rbm32.astype(np.float64)
    v = _states(rbm32.visible, 40, np.random.default_rng(4))
    difference = np.abs(rbm32.free_energy(v) - rbm64.free_energy(v.astype(np.float64)))
    # Both machines hold the same (float32) parameter values, so the
    # difference is the float32 arithmetic bounded by free_energy_tolerance.
    assert np.all(difference <= free_energy_tolerance(rbm32, v))


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_free_energy_thread_count_independent(hid_cls):
    rbm = _make_rbm(Binary, hid_cls, np.float32, n_visible=20, n_hidden=10)
    v = _states(rbm.visible, 300, np.random.default_rng(5))
    assert np.array_equal(rbm.free_energy(v, n_threads=1), rbm.free_energy(v, n_threads=2))


def test_free_energy_invalid_states_rejected():
    rbm = _make_rbm(Binary, Binary, np.float64)
    v = np.zeros((2, rbm.n_visible))
    v[1, 3] = 0.5
    with pytest.raises(ValueError, match="must be (0 or 1|-1 or 1)"):
        rbm.free_energy(v)


# energy


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
@pytest.mark.parametrize("vis_cls", LAYERS)
def test_energy_matches_numpy(vis_cls, hid_cls, dtype):
    rbm = _make_rbm(vis_cls, hid_cls, dtype)
    rng = np.random.default_rng(6)
    v = _states(rbm.visible, 30, rng)
    h = _states(rbm.hidden, 30, rng)
    u_v = reference_energy_units(rbm.visible, v)
    u_h = reference_energy_units(rbm.hidden, h)
    coupling = _f64(v)[:, :, None] * _f64(rbm.weights)[None] * _f64(h)[:, None, :]
    expected = u_v.sum(axis=1) + u_h.sum(axis=1) - coupling.sum(axis=(1, 2))
    magnitude = (np.abs(u_v).sum(axis=1) + np.abs(u_h).sum(axis=1)
                 + np.abs(coupling).sum(axis=(1, 2)))
    out = rbm.energy(v, h)
    assert out.dtype == np.float64
    # Every term is a product of dtype values summed in float64, so 8 ulp of
    # the dtype's magnitude bounds the difference.
    assert np.all(np.abs(out - expected) <= 8 * _eps(dtype) * magnitude)


def test_energy_row_mismatch_rejected():
    rbm = _make_rbm(Binary, Binary, np.float64)
    with pytest.raises(ValueError, match="samples"):
        rbm.energy(np.zeros((3, rbm.n_visible)), np.zeros((2, rbm.n_hidden)))


# phase_gradient kernel


def _stats_rows(layer):
    """Return the number of statistics rows of a layer: one per parameter, >= 2."""
    return max(len(layer.param_names), 2)


def _reference_phase(rbm, x, coef):
    """Return (grad_w, stats_v, stats_h, inputs) of one phase in float64."""
    x64, c64 = _f64(x), _f64(coef)
    inputs = x64 @ _f64(rbm.weights)
    mean_h = reference_mean(rbm.hidden, inputs)
    grad_w = (c64[:, None] * x64).T @ mean_h
    stats_v = np.zeros((2, rbm.n_visible))
    stats_h = np.zeros((_stats_rows(rbm.hidden), rbm.n_hidden))
    stats_v[0] = c64 @ x64
    if isinstance(rbm.visible, Gaussian):
        stats_v[1] = -(c64 @ x64**2) / 2
    if isinstance(rbm.hidden, RELU_LAYERS):
        rows = relu_reference.layer_terms(rbm.hidden, inputs)["rows"]
        for p, row in enumerate(rows):
            stats_h[p] = c64 @ row
        return grad_w, stats_v, stats_h, inputs
    stats_h[0] = c64 @ mean_h
    if isinstance(rbm.hidden, Gaussian):
        var_h = reference_var(rbm.hidden, inputs)
        stats_h[1] = -(c64 @ (mean_h**2 + var_h)) / 2
    return grad_w, stats_v, stats_h, inputs


def _relu_row_tolerances(rbm, c64, B, input_error, inputs):
    """Return the tolerances of the ReLU / dReLU statistics rows.

    Row p moves by |d row_p / dI| times the input error; the slope is a
    central difference of the reference, doubled for margin.  The kernel
    rounds each term to float64 and the closed-form references are good to
    1e-10 relative at these inputs (relu_reference), so 1e-10 of each row
    is added.
    """
    eps = _eps(rbm.dtype)
    step = 1e-5 * (1.0 + np.abs(inputs))
    above = relu_reference.layer_terms(rbm.hidden, inputs + step)["rows"]
    below = relu_reference.layer_terms(rbm.hidden, inputs - step)["rows"]
    rows = relu_reference.layer_terms(rbm.hidden, inputs)["rows"]
    tolerances = []
    for row, up, down in zip(rows, above, below):
        slope = 2 * np.abs(up - down) / (2 * step)
        error = slope * input_error + (16 * eps + 1e-10) * np.abs(row)
        tolerances.append(c64 @ ((B + 4) * eps * (np.abs(row) + error) + error))
    return np.vstack(tolerances)


def _phase_tolerances(rbm, x, coef, inputs):
    """Return the (grad_w, stats_v, stats_h) tolerances in the RBM's dtype.

    E[h | x_b] carries the error of I = x W (N ulp of sum_i |x_i W_i mu|)
    times its slope |dE[h]/dI| (at most 1 for Binary and Spin units, Var[h]
    for real-valued ones), plus 16 ulp of its value for the sigmoid or the
    final rounding.  The sums over B rows add B ulp of the summed magnitudes
    (the recursive-summation bound).
    """
    eps = _eps(rbm.dtype)
    B, N = x.shape
    x64, c64 = np.abs(_f64(x)), np.abs(_f64(coef))
    relu = isinstance(rbm.hidden, RELU_LAYERS)
    var_h = np.abs(reference_var(rbm.hidden, inputs))
    slope = var_h if rbm.hidden.states is None else 1.0
    input_magnitude = x64 @ np.abs(_f64(rbm.weights)) + _field_magnitude(rbm.hidden)
    mean_h = np.abs(reference_mean(rbm.hidden, inputs))
    mean_error = eps * ((N + 2) * slope * input_magnitude + 16 * mean_h)
    if relu:
        mean_error = mean_error + 1e-10 * mean_h
    mean_magnitude = mean_h + mean_error
    grad_w = (c64[:, None] * x64).T @ ((B + 4) * eps * mean_magnitude + mean_error)
    stats_v = np.vstack([(B + 4) * eps * (c64 @ x64),
                         (B + 4) * eps * (c64 @ x64**2)])
    if relu:
        input_error = eps * (N + 2) * input_magnitude
        return grad_w, stats_v, _relu_row_tolerances(rbm, c64, B, input_error, inputs)
    stats_h0 = c64 @ ((B + 4) * eps * mean_magnitude + mean_error)
    # -(E[h]^2 + Var[h]) / 2: E[h]^2 moves by 2 |E[h]| times its error.
    second_magnitude = mean_magnitude**2 + var_h
    stats_h1 = 0.5 * (c64 @ ((B + 4) * eps * second_magnitude
                             + 2 * mean_magnitude * mean_error))
    return grad_w, stats_v, np.vstack([stats_h0, stats_h1])


def _run_phase(rbm, x, coef, grad_w, stats_v, stats_h, accumulate, n_threads=1):
    B = x.shape[0]
    scratch_inputs = np.empty((B, rbm.n_hidden), dtype=rbm.dtype)
    scratch_hidden = np.empty((B, rbm.n_hidden), dtype=rbm.dtype)
    _gradient.phase_gradient(rbm.visible.kind, rbm.visible.params(), rbm.hidden.kind,
                             rbm.hidden.params(), rbm.weights, x, coef,
                             scratch_inputs, scratch_hidden, grad_w, accumulate,
                             stats_v, stats_h, n_threads)


def _phase_problem(vis_cls, hid_cls, dtype, n_samples=37, n_visible=6, n_hidden=5):
    rbm = _make_rbm(vis_cls, hid_cls, dtype, n_visible=n_visible, n_hidden=n_hidden)
    rng = np.random.default_rng(7)
    x = _states(rbm.visible, n_samples, rng)
    # Non-uniform coefficients of both signs, like a weighted data phase.
    coef = (rng.uniform(0.1, 2.0, n_samples) * rng.choice([-1.0, 1.0], n_samples))
    coef = coef.astype(dtype)
    grad0 = rng.normal(0.0, 1.0, (n_visible, n_hidden)).astype(dtype)
    stats_v0 = rng.normal(0.0, 1.0, (2, n_visible))
    stats_h0 = rng.normal(0.0, 1.0, (_stats_rows(rbm.hidden), n_hidden))
    return rbm, x, coef, grad0, stats_v0, stats_h0


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
@pytest.mark.parametrize("vis_cls", LAYERS)
def test_phase_gradient_matches_numpy(vis_cls, hid_cls, dtype, accumulate):
    rbm, x, coef, grad0, stats_v0, stats_h0 = _phase_problem(vis_cls, hid_cls, dtype)
    grad_w, stats_v, stats_h = grad0.copy(), stats_v0.copy(), stats_h0.copy()
    _run_phase(rbm, x, coef, grad_w, stats_v, stats_h, accumulate)

    ref_w, ref_v, ref_h, inputs = _reference_phase(rbm, x, coef)
    if accumulate:
        ref_w = ref_w + _f64(grad0)
    # The statistics accumulate also when accumulate is false.
    ref_v = ref_v + stats_v0
    ref_h = ref_h + stats_h0
    tol_w, tol_v, tol_h = _phase_tolerances(rbm, x, coef, inputs)
    # Adding the previous contents rounds once more: 2 ulp of both sides, in
    # the dtype for the gradient and in float64 for the statistics.
    tol_w = tol_w + 2 * _eps(dtype) * (np.abs(_f64(grad0)) + np.abs(ref_w))
    tol_v = tol_v + 2 * _eps(np.float64) * (np.abs(stats_v0) + np.abs(ref_v))
    tol_h = tol_h + 2 * _eps(np.float64) * (np.abs(stats_h0) + np.abs(ref_h))

    assert grad_w.dtype == dtype
    assert np.all(np.abs(_f64(grad_w) - ref_w) <= tol_w)
    assert np.all(np.abs(stats_v[0] - ref_v[0]) <= tol_v[0])
    assert np.all(np.abs(stats_v[1] - ref_v[1]) <= tol_v[1])
    assert stats_h.shape == ref_h.shape
    for row in range(stats_h.shape[0]):
        assert np.all(np.abs(stats_h[row] - ref_h[row]) <= tol_h[row]), f"row {row}"


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_phase_gradient_second_stats_untouched(hid_cls):
    # Binary and Spin layers have one parameter; the second row of their
    # statistics must stay as it was.
    rbm, x, coef, grad0, stats_v0, stats_h0 = _phase_problem(Binary, hid_cls,
                                                             np.float64)
    stats_v, stats_h = stats_v0.copy(), stats_h0.copy()
    _run_phase(rbm, x, coef, grad0.copy(), stats_v, stats_h, False)
    assert np.array_equal(stats_v[1], stats_v0[1])
    if len(hid_cls.param_names) == 1:
        assert np.array_equal(stats_h[1], stats_h0[1])
    else:
        assert not np.array_equal(stats_h[1], stats_h0[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_phase_gradient_thread_count_independent(hid_cls, dtype):
    # 200 rows and 150 visible units span several row chunks (64) and
    # gradient row blocks (128), so both thread counts split the work.
    results = []
    for n_threads in (1, 2):
        rbm, x, coef, grad0, stats_v0, stats_h0 = _phase_problem(
            Binary, hid_cls, dtype, n_samples=200, n_visible=150, n_hidden=70)
        grad_w, stats_v, stats_h = grad0.copy(), stats_v0.copy(), stats_h0.copy()
        _run_phase(rbm, x, coef, grad_w, stats_v, stats_h, True, n_threads)
        results.append((grad_w, stats_v, stats_h))
    for one, two in zip(*results):
        assert np.array_equal(one, two)


def test_phase_gradient_empty_overwrites():
    rbm, x, coef, grad0, stats_v0, stats_h0 = _phase_problem(Binary, Binary, np.float64)
    grad_w = grad0.copy()
    _run_phase(rbm, x[:0], coef[:0], grad_w, stats_v0.copy(), stats_h0.copy(), False)
    assert np.array_equal(grad_w, np.zeros_like(grad0))


# optimiser kernels


def _optimizer_problem(dtype, n=101):
    rng = np.random.default_rng(8)
    param = rng.normal(0.0, 1.0, n)
    param[:5] = 0.0  # sign(0) = 0 gives no L1 term
    grad = rng.normal(0.0, 1.0, n)
    m = rng.normal(0.0, 0.1, n)
    v = rng.uniform(0.0, 0.1, n)
    return [a.astype(dtype) for a in (param, grad, m, v)]


def _optimizer_tolerance(dtype, *terms):
    # Each output is a short chain of dtype operations on the listed terms:
    # 8 ulp of their summed magnitudes bounds the rounding.
    return 8 * _eps(dtype) * sum(np.abs(t) for t in terms)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_matches_numpy(dtype):
    param, grad, m, v = _optimizer_problem(dtype)
    lr, beta1, beta2, eps, t, l2, l1 = 0.01, 0.9, 0.99, 1e-8, 3, 0.05, 0.02
    p64, g64, m64, v64 = (_f64(a) for a in (param, grad, m, v))
    g_total = g64 + l2 * p64 + l1 * np.sign(p64)
    m_ref = beta1 * m64 + (1 - beta1) * g_total
    v_ref = beta2 * v64 + (1 - beta2) * g_total**2
    m_hat = m_ref / (1 - beta1**t)
    v_hat = v_ref / (1 - beta2**t)
    step = lr * m_hat / (np.sqrt(v_hat) + eps)
    p_ref = p64 - step

    _optim.adam(param, grad, m, v, lr, beta1, beta2, eps, t, l2, l1, 1)
    assert np.all(np.abs(_f64(m) - m_ref)
                  <= _optimizer_tolerance(dtype, beta1 * m64, g_total))
    assert np.all(np.abs(_f64(v) - v_ref)
                  <= _optimizer_tolerance(dtype, beta2 * v64, g_total**2))
    assert np.all(np.abs(_f64(param) - p_ref) <= _optimizer_tolerance(dtype, p64, step))


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_first_step_is_signed_lr(dtype):
    # At t = 1 from zero moments, m_hat / sqrt(v_hat) = sign(g), so every
    # parameter moves by lr (eps = 0 and nonzero gradients).
    param, grad, _, _ = _optimizer_problem(dtype)
    m, v = np.zeros_like(param), np.zeros_like(param)
    start = param.copy()
    _optim.adam(param, grad, m, v, 0.01, 0.9, 0.999, 0.0, 1)
    expected = _f64(start) - 0.01 * np.sign(_f64(grad))
    assert np.allclose(param, expected, rtol=0, atol=8 * _eps(dtype))


def test_adam_nonfinite_raises():
    param, grad, m, v = _optimizer_problem(np.float64)
    grad[3] = np.inf
    with pytest.raises(FloatingPointError):
        _optim.adam(param, grad, m, v, 0.01, 0.9, 0.999, 1e-8, 1)


def test_adam_step_zero_rejected():
    param, grad, m, v = _optimizer_problem(np.float64)
    with pytest.raises(ValueError, match="t must be >= 1"):
        _optim.adam(param, grad, m, v, 0.01, 0.9, 0.999, 1e-8, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_momentum_matches_numpy(dtype):
    param, grad, buf, _ = _optimizer_problem(dtype)
    lr, momentum, l2, l1 = 0.05, 0.8, 0.1, 0.03
    p64, g64, b64 = (_f64(a) for a in (param, grad, buf))
    g_total = g64 + l2 * p64 + l1 * np.sign(p64)
    buf_ref = momentum * b64 + g_total
    p_ref = p64 - lr * buf_ref

    _optim.sgd(param, grad, buf, lr, momentum, l2, l1, 1)
    assert np.all(np.abs(_f64(buf) - buf_ref)
                  <= _optimizer_tolerance(dtype, momentum * b64, g_total))
    assert np.all(np.abs(_f64(param) - p_ref)
                  <= _optimizer_tolerance(dtype, p64, lr * buf_ref))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_plain_matches_numpy(dtype):
    param, grad, _, _ = _optimizer_problem(dtype)
    lr, l2, l1 = 0.05, 0.1, 0.03
    p64, g64 = _f64(param), _f64(grad)
    step = lr * (g64 + l2 * p64 + l1 * np.sign(p64))
    _optim.sgd(param, grad, None, lr, 0.0, l2, l1, 1)
    assert np.all(np.abs(_f64(param) - (p64 - step))
                  <= _optimizer_tolerance(dtype, p64, step))


def test_sgd_nonfinite_raises():
    param, grad, buf, _ = _optimizer_problem(np.float64)
    grad[0] = np.inf
    with pytest.raises(FloatingPointError):
        _optim.sgd(param, grad, buf, 0.1, 0.9)


# Gibbs sampling


def test_gibbs_advances_two_calls_per_sweep():
    rbm = _make_rbm(Binary, Binary, np.float32)
    stream = Stream.from_seed(1)
    rbm.gibbs(_states(rbm.visible, 10, np.random.default_rng(0)), stream, n_steps=7)
    assert stream.call == 14


def test_gibbs_leaves_input_unchanged():
    rbm = _make_rbm(Binary, Binary, np.float32)
    v0 = _states(rbm.visible, 50, np.random.default_rng(0))
    start = v0.copy()
    rbm.gibbs(v0, Stream.from_seed(1), n_steps=3)
    assert np.array_equal(v0, start)


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_gibbs_row0_offsets_chains(hid_cls):
    # Chain b draws from stream row row0 + b, so chains 100: run alone with
    # row0 = 100 repeat chains 100: of the full run.
    rbm = _make_rbm(Spin, hid_cls, np.float64)
    v0 = _states(rbm.visible, 200, np.random.default_rng(0))
    v_full, h_full = rbm.gibbs(v0, Stream(key=(3, 4)), n_steps=5)
    v_tail, h_tail = rbm.gibbs(v0[100:], Stream(key=(3, 4)), n_steps=5, row0=100)
    assert np.array_equal(v_tail, v_full[100:])
    assert np.array_equal(h_tail, h_full[100:])


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_gibbs_in_process_thread_count_independent(hid_cls):
    rbm = _make_rbm(Binary, hid_cls, np.float32, n_visible=20, n_hidden=8)
    v0 = _states(rbm.visible, 300, np.random.default_rng(0))
    one = rbm.gibbs(v0, Stream(key=(1, 2)), n_steps=5, n_threads=1)
    two = rbm.gibbs(v0, Stream(key=(1, 2)), n_steps=5, n_threads=2)
    assert np.array_equal(one[0], two[0])
    assert np.array_equal(one[1], two[1])


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_gibbs_states_valid(hid_cls):
    rbm = _make_rbm(Spin, hid_cls, np.float32)
    v, h = rbm.gibbs(_states(rbm.visible, 100, np.random.default_rng(0)),
                     Stream.from_seed(2), n_steps=3)
    assert np.all(np.isin(v, rbm.visible.states))
    assert np.all(np.isfinite(h))
    if rbm.hidden.states is not None:
        assert np.all(np.isin(h, rbm.hidden.states))
    if rbm.hidden.minimum is not None:
        assert np.all(h >= rbm.hidden.minimum)


# thread-count independence across processes

_THREAD_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np
    import threadpoolctl

    from rbmfast.config import TrainConfig
    from rbmfast.layers import Binary, DReLU, Gaussian, ReLU
    from rbmfast.random import Stream
    from rbmfast.rbm import RBM
    from rbmfast.training import train

    out = sys.argv[1]
    rng = np.random.default_rng(0)
    hidden_layers = {
        "binary": Binary(12, theta=rng.normal(0, 1, 12)),
        "gaussian": Gaussian(12, theta=rng.normal(0, 1, 12),
                             gamma=rng.uniform(1, 2, 12)),
        "relu": ReLU(12, theta=rng.normal(0, 1, 12), gamma=rng.uniform(1, 2, 12)),
        "drelu": DReLU(12, theta_plus=rng.normal(0, 1, 12),
                       theta_minus=rng.normal(0, 1, 12),
                       gamma_plus=rng.uniform(1, 2, 12),
                       gamma_minus=rng.uniform(1, 2, 12)),
    }
    for name, hidden in hidden_layers.items():
        visible = Binary(30, theta=rng.normal(0, 1, 30))
        rbm = RBM(visible, hidden, rng.normal(0, 0.2, (30, 12)))
        v0 = (rng.random((300, 30)) < 0.5).astype(np.float32)
        v, h = rbm.gibbs(v0, Stream.from_seed(1), n_steps=20)
        np.save(f"{out}/gibbs_{name}_v.npy", v)
        np.save(f"{out}/gibbs_{name}_h.npy", h)

    data = (rng.random((256, 16)) < 0.3).astype(np.float32)
    config = TrainConfig(n_hidden=20, n_epochs=2, batch_size=64, seed=3)
    rbm, _, state = train(config, data)
    np.save(f"{out}/train_weights.npy", rbm.weights)
    np.save(f"{out}/train_visible_theta.npy", rbm.visible.theta)
    np.save(f"{out}/train_hidden_theta.npy", rbm.hidden.theta)
    np.save(f"{out}/train_chains.npy", state.chains)

    # ReLU and dReLU runs rescale their hidden units after every update
    for hidden in ("relu", "drelu"):
        config = TrainConfig(n_hidden=20, hidden=hidden, n_epochs=2, batch_size=64,
                             seed=3)
        rbm, _, state = train(config, data)
        np.save(f"{out}/train_{hidden}_weights.npy", rbm.weights)
        for name in rbm.hidden.param_names:
            np.save(f"{out}/train_{hidden}_{name}.npy", getattr(rbm.hidden, name))
        np.save(f"{out}/train_{hidden}_chains.npy", state.chains)

    openmp = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p["user_api"] == "openmp"]
    with open(f"{out}/openmp.json", "w") as f:
        json.dump(openmp, f)
""")

_THREAD_ARRAYS = ["gibbs_binary_v", "gibbs_binary_h", "gibbs_gaussian_v",
                  "gibbs_gaussian_h", "gibbs_relu_v", "gibbs_relu_h", "gibbs_drelu_v",
                  "gibbs_drelu_h", "train_weights", "train_visible_theta",
                  "train_hidden_theta", "train_chains", "train_relu_weights",
                  "train_relu_theta", "train_relu_gamma", "train_relu_chains",
                  "train_drelu_weights", "train_drelu_theta_plus",
                  "train_drelu_theta_minus", "train_drelu_gamma_plus",
                  "train_drelu_gamma_minus", "train_drelu_chains"]


@pytest.fixture(scope="module")
def thread_runs(tmp_path_factory):
    """Run the script under OMP_NUM_THREADS=1 and =2; return the folders."""
    folders = {}
    for n_threads in (1, 2):
        folder = tmp_path_factory.mktemp(f"threads{n_threads}")
        env = dict(os.environ, OMP_NUM_THREADS=str(n_threads))
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(folder)], env=env,
                       check=True, timeout=300)
        folders[n_threads] = folder
    return folders


def test_thread_runs_use_requested_threads(thread_runs):
    # Without this the comparison below could pass with one thread in both.
    for n_threads, folder in thread_runs.items():
        openmp = json.loads((folder / "openmp.json").read_text())
        assert openmp == [n_threads]


@pytest.mark.parametrize("name", _THREAD_ARRAYS)
def test_thread_count_independent(thread_runs, name):
    one = np.load(thread_runs[1] / f"{name}.npy")
    two = np.load(thread_runs[2] / f"{name}.npy")
    assert np.array_equal(one, two)


# clamping


@pytest.mark.parametrize("hid_cls, values", [(Binary, [1.0, 0.0]), (Spin, [-1.0, 1.0]),
                                             (Gaussian, [0.7, -1.3]), (ReLU, [0.7, 0.0]),
                                             (DReLU, [0.7, -1.3])])
def test_clamp_holds_values(hid_cls, values):
    rbm = _make_rbm(Binary, hid_cls, np.float32)
    v0 = _states(rbm.visible, 80, np.random.default_rng(0))
    _, h = rbm.gibbs(v0, Stream.from_seed(3), n_steps=4, clamp=([3, 1], values))
    assert np.all(h[:, 3] == np.float32(values[0]))
    assert np.all(h[:, 1] == np.float32(values[1]))


def test_clamp_per_chain_values():
    rbm = _make_rbm(Binary, Binary, np.float64)
    n_chains = 150
    values = np.random.default_rng(1).choice([0.0, 1.0], (n_chains, 2))
    v0 = _states(rbm.visible, n_chains, np.random.default_rng(0))
    _, h = rbm.gibbs(v0, Stream.from_seed(3), n_steps=3, clamp=([0, 2], values))
    assert np.array_equal(h[:, [0, 2]], values)


def test_clamp_leaves_other_units_free():
    # Units 0 and 2 are sampled, so across 150 chains they take both values.
    rbm = _make_rbm(Binary, Binary, np.float64)
    v0 = _states(rbm.visible, 150, np.random.default_rng(0))
    _, h = rbm.gibbs(v0, Stream.from_seed(3), n_steps=2, clamp=([1, 3], [1.0, 1.0]))
    assert np.unique(h[:, 0]).size == 2
    assert np.unique(h[:, 2]).size == 2


@pytest.mark.parametrize("units", [[4], [-1], [0, 7]])
def test_clamp_out_of_range_rejected(units):
    rbm = _make_rbm(Binary, Binary, np.float64, n_hidden=4)
    v0 = _states(rbm.visible, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="out of range"):
        rbm.gibbs(v0, Stream.from_seed(0), clamp=(units, [1.0] * len(units)))


def test_clamp_duplicate_units_rejected():
    rbm = _make_rbm(Binary, Binary, np.float64)
    v0 = _states(rbm.visible, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="duplicates"):
        rbm.gibbs(v0, Stream.from_seed(0), clamp=([1, 1], [1.0, 0.0]))


@pytest.mark.parametrize("values", [[1.0], np.ones((3, 2)), np.ones((5, 2, 1))])
def test_clamp_value_shape_rejected(values):
    rbm = _make_rbm(Binary, Binary, np.float64)
    v0 = _states(rbm.visible, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="clamp values"):
        rbm.gibbs(v0, Stream.from_seed(0), clamp=([0, 1], values))


def test_clamp_float_units_rejected():
    rbm = _make_rbm(Binary, Binary, np.float64)
    v0 = _states(rbm.visible, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="integer"):
        rbm.gibbs(v0, Stream.from_seed(0), clamp=([0.0], [1.0]))


def test_clamp_nonfinite_values_rejected():
    rbm = _make_rbm(Binary, Binary, np.float64)
    v0 = _states(rbm.visible, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-finite"):
        rbm.gibbs(v0, Stream.from_seed(0), clamp=([0], [np.nan]))
