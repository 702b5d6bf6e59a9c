"""ReLU and dReLU layers: erfcx, the truncated-normal inverse, moments,
sampling, rescaling and validation.

Quadrature references integrate the defining integrals
    Z(x) = int_0^inf exp(x h - gamma h^2 / 2) dh
with scipy.integrate.quad in float64, split at the kink h = 0 for dReLU
units.  Around an interior mode m = x / gamma the exponent is written as
x^2 / (2 gamma) - gamma (h - m)^2 / 2, so the integrand carries no
cancellation even for x = 1e4 and gamma = 1e-3.
"""
import numpy as np
import pytest
from scipy import integrate, special, stats

from rbmfast._kernels import _gradient, _layers
from rbmfast.config import TrainConfig
from rbmfast.constraints import label_constraints
from rbmfast.layers import Binary, DReLU, Gaussian, ReLU, Spin, layer_from_name
from rbmfast.random import Stream
from rbmfast.rbm import RBM
from rbmfast.training import rescale_hidden_units

DTYPES = [np.float32, np.float64]
EPS32 = float(np.finfo(np.float32).eps)
N_DRAWS = 20000


# -- quadrature references ---------------------------------------------------------


def half_line_quad(x, gamma):
    """Return (log Z, E[h], E[h^2], Var[h]) of exp(x h - gamma h^2 / 2), h >= 0."""
    x, gamma = float(x), float(gamma)
    sigma = 1 / np.sqrt(gamma)
    if x > 0:
        mode = x / gamma
        log_peak = 0.5 * x * mode

        def log_weight(h):
            return -0.5 * gamma * (h - mode) ** 2

        low, high = max(0.0, mode - 60 * sigma), mode + 60 * sigma
    else:
        mode, log_peak = 0.0, 0.0

        def log_weight(h):
            return x * h - 0.5 * gamma * h * h

        # the weight falls off as exp(-|x| h) or exp(-gamma h^2 / 2)
        scale = sigma if x == 0 else min(sigma, 1 / abs(x))
        low, high = 0.0, 60 * scale
    points = [mode] if low < mode < high else None
    options = dict(epsabs=0, epsrel=1e-13, limit=200, points=points)
    z = integrate.quad(lambda h: np.exp(log_weight(h)), low, high, **options)[0]
    mean = integrate.quad(lambda h: h * np.exp(log_weight(h)), low, high,
                          **options)[0] / z
    var = integrate.quad(lambda h: (h - mean) ** 2 * np.exp(log_weight(h)), low, high,
                         **options)[0] / z
    return log_peak + np.log(z), mean, var + mean**2, var


def drelu_quad(x_plus, x_minus, gamma_plus, gamma_minus):
    """Return a dict of the dReLU cgf and moments by quadrature.

    The integral over h < 0 of exp(x_- h - gamma_- h^2 / 2) is the integral
    over u = -h > 0 of exp(-x_- u - gamma_- u^2 / 2).
    """
    log_z_plus, m_plus, s_plus, v_plus = half_line_quad(x_plus, gamma_plus)
    log_z_minus, m_minus, s_minus, v_minus = half_line_quad(-x_minus, gamma_minus)
    cgf = np.logaddexp(log_z_plus, log_z_minus)
    p_plus, p_minus = np.exp(log_z_plus - cgf), np.exp(log_z_minus - cgf)
    return {"cgf": cgf, "p_plus": p_plus,
            "mean": p_plus * m_plus - p_minus * m_minus,
            "var": (p_plus * v_plus + p_minus * v_minus
                    + p_plus * p_minus * (m_plus + m_minus) ** 2),
            "rows": [p_plus * m_plus, -p_minus * m_minus, -0.5 * p_plus * s_plus,
                     -0.5 * p_minus * s_minus]}


def relu_quad_terms(x, gamma):
    log_z, mean, second, var = half_line_quad(x, gamma)
    return {"cgf": log_z, "mean": mean, "var": var, "rows": [mean, -0.5 * second]}


def hidden_statistics(layer, inputs):
    """Return the gradient rows E[s_p] (R, n) and E[h] (n,) at one row of inputs.

    One Binary visible unit in state 1 with weights `inputs` gives the
    hidden inputs exactly, and the coefficient 1 makes the statistics the
    per-unit expectations.
    """
    dtype = layer.dtype
    visible = Binary(1, dtype=dtype)
    weights = np.asarray(inputs, dtype=dtype).reshape(1, layer.n)
    x = np.ones((1, 1), dtype=dtype)
    coef = np.ones(1, dtype=dtype)
    scratch = np.empty((1, layer.n), dtype=dtype), np.empty((1, layer.n), dtype=dtype)
    grad_w = np.empty((1, layer.n), dtype=dtype)
    stats_v = np.zeros((2, 1))
    stats_h = np.zeros((max(len(layer.param_names), 2), layer.n))
    _gradient.phase_gradient(visible.kind, visible.params(), layer.kind, layer.params(),
                             weights, x, coef, scratch[0], scratch[1], grad_w, False,
                             stats_v, stats_h, 1)
    return stats_h[:len(layer.param_names)], grad_w[0]


# -- erfcx ------------------------------------------------------------------------


def test_erfcx_matches_scipy():
    t = np.concatenate([np.linspace(-25.0, 1e4, 200001), -np.geomspace(1e-8, 25, 2001),
                        np.geomspace(1e-8, 1e4, 2001),
                        [0.0, np.nextafter(2.0, 0.0), 2.0, 2.5, 3.0, 4.0, 5.0, 8.0]])
    ours = _layers.erfcx(t)
    reference = special.erfcx(t)
    relative = np.abs(ours - reference) / reference
    # SciPy's erfcx is itself off by up to 6e-14 below t = -5 (it rounds the
    # t^2 in exp(t^2)); the kernel splits t^2 with an fma.
    assert relative.max() <= 1e-13
    assert relative[t >= -5].max() <= 4e-15


def test_erfcx_extremes():
    t = np.array([1e8, 1e9, 1e200, 1e300])
    assert np.allclose(_layers.erfcx(t), 1 / (np.sqrt(np.pi) * t), rtol=1e-15, atol=0)
    assert np.isfinite(_layers.erfcx(np.array([-26.5]))).all()
    assert _layers.erfcx(np.array([-27.0]))[0] == np.inf


# -- truncated-normal inverse CDF ------------------------------------------------------


def test_excess_matches_scipy():
    alpha, uniform = np.meshgrid(np.linspace(-6, 6, 49),
                                 [1e-12, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    ours = _layers.truncated_normal_excess(alpha, uniform)
    # z solves P(Z > z) = uniform P(Z > alpha); SciPy's truncnorm.isf is off by
    # 3e-6 at uniform = 1e-12 (SciPy 1.17), norm.isf is not.
    reference = stats.norm.isf(uniform * stats.norm.sf(alpha)) - alpha
    # Forming d = z - alpha costs an ulp of alpha on either side.
    tolerance = 1e-12 * reference + 4e-16 * (1 + np.abs(alpha))
    assert np.all(np.abs(ours - reference) <= tolerance)


@pytest.mark.parametrize("alpha", [10.0, 100.0, 1e3, 1e4, 3e5])
def test_excess_deep_tail_solves_equation(alpha):
    # Deep in the tail d is about -log(u) / alpha.  The residual of
    # log P(Z > alpha + d) - log P(Z > alpha) - log(u), evaluated with
    # SciPy's erfcx, has slope -alpha in d, so a residual of 1e-13 is a
    # relative error of d below 1e-13 / |log u|.
    uniform = np.array([1e-15, 1e-6, 0.01, 0.3, 0.7, 0.999])
    d = _layers.truncated_normal_excess(alpha, uniform)
    t0, t1 = alpha / np.sqrt(2), (alpha + d) / np.sqrt(2)
    residual = (np.log(special.erfcx(t1) / special.erfcx(t0)) - d * (alpha + d / 2)
                - np.log(uniform))
    assert np.all(np.abs(residual) <= 1e-13 * (1 + np.abs(np.log(uniform))))
    # alpha d + d^2 / 2 = -log(u) up to O(1 / alpha^2) relative
    exponent = -np.log(uniform)
    assert np.all(np.abs(d * alpha / exponent - 1) <= (2 + exponent) / alpha**2)


@pytest.mark.parametrize("alpha", [-40.0, -5.0, -0.5, 0.0, 0.5, 2.99, 3.0, 50.0])
def test_excess_decreases_in_uniform(alpha):
    uniform = np.geomspace(1e-15, 1 - 1e-9, 3000)
    d = _layers.truncated_normal_excess(alpha, uniform)
    assert np.all(d > 0)
    assert np.all(np.diff(d) < 0)


def test_excess_at_uniform_one_is_zero():
    assert np.all(_layers.truncated_normal_excess([-3.0, 0.0, 5.0], 1.0) == 0.0)


def test_excess_rejects_uniform_zero():
    with pytest.raises(ValueError, match="uniform"):
        _layers.truncated_normal_excess(0.0, 0.0)


# -- ReLU moments and cgf ------------------------------------------------------------

RELU_FIELDS = [-40.0, -6.0, -1.5, -0.2, 0.0, 0.3, 2.0, 7.0, 30.0]
RELU_GAMMAS = [1e-3, 0.3, 1.0, 5.0]


def _grid_layer(cls, dtype, fields, gammas):
    """Return a layer with one unit per (field, gamma) and its inputs."""
    x, g = (a.ravel() for a in np.meshgrid(fields, gammas))
    if cls is ReLU:
        layer = ReLU(x.size, dtype=dtype, gamma=g)
    else:
        layer = DReLU(x.size, dtype=dtype, theta_plus=0.5, theta_minus=-0.5,
                      gamma_plus=g, gamma_minus=2 * g)
    return layer, x.astype(dtype)[None, :]


def _quad_reference(layer, inputs):
    """Return the quadrature terms of every unit, from the dtype-cast values."""
    I = inputs[0].astype(np.float64)
    if isinstance(layer, ReLU):
        g = layer.gamma.astype(np.float64)
        return [relu_quad_terms(I[j] + layer.theta[j], g[j]) for j in range(layer.n)]
    params = [p.astype(np.float64) for p in layer.params()]
    return [drelu_quad(params[0][j] + I[j], params[1][j] + I[j], params[2][j],
                       params[3][j]) for j in range(layer.n)]


def _check_against_quadrature(layer, inputs, extra_relative=0.0):
    """Compare cgf, mean, var and the gradient rows with quadrature."""
    reference = _quad_reference(layer, inputs)
    eps = float(np.finfo(layer.dtype).eps)
    # Outputs in the layer's dtype are rounded once from float64 values; the
    # quadrature is good to about 1e-12 relative.
    relative = 2 * eps + 1e-10 + extra_relative
    for j, ref in enumerate(reference):
        single = type(layer)(1, dtype=layer.dtype,
                             **{name: getattr(layer, name)[j:j + 1]
                                for name in layer.param_names})
        cgf = single.cgf(inputs[:, j:j + 1])[0]
        assert cgf == pytest.approx(ref["cgf"], rel=1e-12, abs=1e-12), f"cgf unit {j}"
    mean = layer.mean(inputs)[0].astype(np.float64)
    var = layer.var(inputs)[0].astype(np.float64)
    rows, grad_w = hidden_statistics(layer, inputs)
    for j, ref in enumerate(reference):
        assert mean[j] == pytest.approx(ref["mean"], rel=relative, abs=1e-300), j
        assert grad_w[j] == pytest.approx(ref["mean"], rel=relative, abs=1e-300), j
        assert var[j] == pytest.approx(ref["var"], rel=relative), j
        for p, value in enumerate(ref["rows"]):
            # the statistics are accumulated in float64 from float64 terms
            assert rows[p, j] == pytest.approx(value, rel=1e-10, abs=1e-300), (p, j)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_matches_quadrature(dtype):
    layer, inputs = _grid_layer(ReLU, dtype, RELU_FIELDS, RELU_GAMMAS)
    _check_against_quadrature(layer, inputs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_drelu_matches_quadrature(dtype):
    layer, inputs = _grid_layer(DReLU, dtype, RELU_FIELDS, RELU_GAMMAS)
    _check_against_quadrature(layer, inputs)


def test_drelu_bimodal_matches_quadrature():
    # Both sides have an interior mode of similar weight, and one unit is
    # exactly symmetric, so p_+ = 1/2 and E[h] = 0.
    layer = DReLU(3, dtype=np.float64, theta_plus=[3.0, 3.0, 2.0],
                  theta_minus=[-3.0, -2.5, -4.0], gamma_plus=[1.0, 1.0, 0.5],
                  gamma_minus=[1.0, 0.8, 2.0])
    inputs = np.zeros((1, 3))
    _check_against_quadrature(layer, inputs)
    assert layer.mean(inputs)[0, 0] == 0.0


@pytest.mark.parametrize("cls", [ReLU, DReLU])
def test_free_energy_matches_quadrature(cls):
    # F(v) = U_v(v) - sum_mu log int exp(I_mu h - U_mu(h)) dh, over all 16
    # visible states of a 4 x 2 machine.
    rng = np.random.default_rng(0)
    visible = Binary(4, dtype=np.float64, theta=rng.normal(0, 1, 4))
    if cls is ReLU:
        hidden = ReLU(2, dtype=np.float64, theta=[0.3, -0.8], gamma=[0.7, 2.0])
    else:
        hidden = DReLU(2, dtype=np.float64, theta_plus=[0.3, -0.8],
                       theta_minus=[-0.2, 0.6], gamma_plus=[0.7, 2.0],
                       gamma_minus=[1.5, 0.4])
    rbm = RBM(visible, hidden, rng.normal(0, 1.0, (4, 2)))
    states = np.array(np.meshgrid(*[[0.0, 1.0]] * 4)).reshape(4, -1).T
    inputs = states @ rbm.weights
    expected = visible.energy(states).copy()
    for b in range(states.shape[0]):
        for ref in _quad_reference(hidden, inputs[b:b + 1]):
            expected[b] -= ref["cgf"]
    assert np.allclose(rbm.free_energy(states), expected, rtol=1e-12, atol=1e-12)


# -- extreme inputs ------------------------------------------------------------------

EXTREME_INPUTS = [-1e4, -1e3, -88.0, -1.0, 0.0, 1.0, 88.0, 1e3, 1e4]
EXTREME_GAMMAS = [1e-3, 1.0, 1e3]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [ReLU, DReLU])
def test_extreme_inputs_finite(cls, dtype):
    layer, inputs = _grid_layer(cls, dtype, EXTREME_INPUTS, EXTREME_GAMMAS)
    rows = np.repeat(inputs, 50, axis=0)
    mean, var = layer.mean(inputs), layer.var(inputs)
    samples = layer.sample(rows, Stream.from_seed(0))
    for name, values in [("mean", mean), ("var", var), ("mode", layer.mode(inputs)),
                         ("cgf", layer.cgf(inputs)), ("sample", samples)]:
        assert np.all(np.isfinite(values)), name
    assert np.all(var > 0)
    if cls is ReLU:
        assert np.all(mean > 0)
        assert np.all(samples >= 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [ReLU, DReLU])
def test_extreme_inputs_match_quadrature(cls, dtype):
    layer, inputs = _grid_layer(cls, dtype, [-1e4, 1e4], EXTREME_GAMMAS)
    _check_against_quadrature(layer, inputs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_mode(dtype):
    layer, inputs = _grid_layer(ReLU, dtype, [-1e4, 1e4], EXTREME_GAMMAS)
    x, gamma = inputs[0].astype(np.float64), layer.gamma.astype(np.float64)
    expected = np.maximum(x, 0) / gamma
    assert np.allclose(layer.mode(inputs)[0], expected, rtol=EPS32, atol=0)


# -- sampling ------------------------------------------------------------------------


def _relu_cdf(x, gamma):
    """Return the exact CDF of a ReLU unit, from log_ndtr of the tail."""
    sigma = 1 / np.sqrt(gamma)
    alpha = -x * sigma

    def cdf(h):
        log_tail = special.log_ndtr(-(alpha + h / sigma)) - special.log_ndtr(-alpha)
        return -np.expm1(log_tail)

    return cdf


def _drelu_cdf(x_plus, x_minus, gamma_plus, gamma_minus):
    p_plus = drelu_quad(x_plus, x_minus, gamma_plus, gamma_minus)["p_plus"]
    positive = _relu_cdf(x_plus, gamma_plus)
    negative = _relu_cdf(-x_minus, gamma_minus)

    def cdf(h):
        h = np.asarray(h, np.float64)
        below = (1 - p_plus) * (1 - negative(np.maximum(-h, 0)))
        above = (1 - p_plus) + p_plus * positive(np.maximum(h, 0))
        return np.where(h < 0, below, above)

    return cdf


RELU_UNITS = {"x": [-3.0, -0.5, 0.5, 3.0], "gamma": [0.5, 1.0, 2.0, 4.0]}
DRELU_UNITS = {"x_plus": [-1.0, 0.5, 2.0, 3.0], "x_minus": [1.0, -0.5, 0.5, -3.0],
               "gamma_plus": [1.0, 2.0, 0.5, 1.0], "gamma_minus": [0.5, 1.0, 2.0, 1.0]}


def _relu_samples(dtype, seed=11):
    gamma = np.array(RELU_UNITS["gamma"])
    layer = ReLU(4, dtype=dtype, gamma=gamma)
    inputs = np.tile(np.array(RELU_UNITS["x"]), (N_DRAWS, 1)).astype(dtype)
    return layer, inputs, layer.sample(inputs, Stream.from_seed(seed)).astype(np.float64)


def _drelu_samples(dtype, seed=12):
    units = DRELU_UNITS
    layer = DReLU(4, dtype=dtype, theta_plus=units["x_plus"],
                  theta_minus=units["x_minus"], gamma_plus=units["gamma_plus"],
                  gamma_minus=units["gamma_minus"])
    inputs = np.zeros((N_DRAWS, 4), dtype=dtype)
    return layer, inputs, layer.sample(inputs, Stream.from_seed(seed)).astype(np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("draw", [_relu_samples, _drelu_samples])
def test_sample_moments(draw, dtype):
    layer, inputs, samples = draw(dtype)
    mean = layer.mean(inputs[:1])[0].astype(np.float64)
    var = layer.var(inputs[:1])[0].astype(np.float64)
    # 5 standard errors of the sample mean and of the sample mean of
    # (h - E[h])^2 (its standard error estimated from the draws)
    assert np.all(np.abs(samples.mean(axis=0) - mean) < 5 * np.sqrt(var / N_DRAWS))
    squared = (samples - mean) ** 2
    error = 5 * squared.std(axis=0) / np.sqrt(N_DRAWS)
    assert np.all(np.abs(squared.mean(axis=0) - var) < error)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_sample_ks(dtype):
    _, _, samples = _relu_samples(dtype)
    assert np.all(samples >= 0)
    for j, (x, gamma) in enumerate(zip(RELU_UNITS["x"], RELU_UNITS["gamma"])):
        # a correct sampler fails this at one seed with probability 1e-4
        result = stats.kstest(samples[:, j], _relu_cdf(x, gamma))
        assert result.pvalue > 1e-4, f"unit {j}: {result}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_drelu_sample_ks(dtype):
    _, _, samples = _drelu_samples(dtype)
    units = DRELU_UNITS
    for j in range(4):
        args = [units[key][j] for key in ("x_plus", "x_minus", "gamma_plus",
                                          "gamma_minus")]
        result = stats.kstest(samples[:, j], _drelu_cdf(*args))
        assert result.pvalue > 1e-4, f"unit {j}: {result}"
        p_plus = drelu_quad(*args)["p_plus"]
        positive = (samples[:, j] >= 0).mean()
        assert abs(positive - p_plus) < 5 * np.sqrt(p_plus * (1 - p_plus) / N_DRAWS)


def test_ks_rejects_wrong_input():
    # Power check: the same draws against the CDF at an input 0.25 too large.
    _, _, samples = _relu_samples(np.float64)
    for j, (x, gamma) in enumerate(zip(RELU_UNITS["x"], RELU_UNITS["gamma"])):
        result = stats.kstest(samples[:, j], _relu_cdf(x + 0.25, gamma))
        assert result.pvalue < 1e-6, f"unit {j}: {result}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x, gamma", [(-1e4, 1.0), (-1e4, 1e-3), (1e4, 1e-3)])
def test_extreme_sample_distribution(x, gamma, dtype):
    # x = -1e4: nearly exponential with rate 1e4; x = 1e4, gamma = 1e-3:
    # nearly normal with mean 1e7 and standard deviation 31.6.
    layer = ReLU(1, dtype=dtype, gamma=gamma)
    inputs = np.full((5000, 1), x, dtype=dtype)
    samples = layer.sample(inputs, Stream.from_seed(3))[:, 0].astype(np.float64)
    mean = layer.mean(inputs[:1])[0, 0].astype(np.float64)
    var = layer.var(inputs[:1])[0, 0].astype(np.float64)
    assert np.all(samples >= 0)
    assert abs(samples.mean() - mean) < 5 * np.sqrt(var / samples.size)
    cdf = _relu_cdf(x, float(layer.gamma[0]))
    if dtype == np.float32 and x > 0:
        # float32 rounds samples near 1e7 to whole numbers, a step of 0.03
        # standard deviations, which the KS statistic of 5000 draws resolves
        samples = samples + np.random.default_rng(0).uniform(-0.5, 0.5, samples.size)
    assert stats.kstest(samples, cdf).pvalue > 1e-4


def _uniform53(hi, lo):
    m = (int(hi) >> 5) * 2**26 + (int(lo) >> 6)
    return (m + 0.5) / 2**53


def test_relu_sample_uses_documented_words():
    # Unit j of row r inverts the CDF at the 53-bit uniform from words 2 j and
    # 2 j + 1 of the row's Philox stream (block (2 j) / 4).
    layer = ReLU(3, dtype=np.float64, theta=[-1.0, 0.5, 2.0], gamma=[1.0, 2.0, 0.5])
    key, call, row = (123, 456), 7, 5
    inputs = np.zeros((row + 1, 3))
    samples = layer.sample(inputs, Stream(key=key, call=call))
    for j in range(3):
        words = _layers.philox_block([(2 * j) // 4, row, call, 0], key)
        offset = (2 * j) % 4
        uniform = _uniform53(words[offset], words[offset + 1])
        sigma = 1 / np.sqrt(layer.gamma[j])
        expected = sigma * _layers.truncated_normal_excess(-layer.theta[j] * sigma,
                                                           uniform)
        assert samples[row, j] == expected


def test_drelu_sample_uses_documented_words():
    # Unit j takes Philox block j: words 0, 1 place h on its half-line and
    # words 2, 3 pick the side (h >= 0 when that uniform is <= p_+).
    layer = DReLU(2, dtype=np.float64, theta_plus=[0.5, -1.0], theta_minus=[-0.5, 1.0],
                  gamma_plus=[1.0, 2.0], gamma_minus=[2.0, 1.0])
    key, call = (9, 10), 3
    samples = layer.sample(np.zeros((64, 2)), Stream(key=key, call=call))
    for row in range(64):
        for j in range(2):
            words = _layers.philox_block([j, row, call, 0], key)
            line, side = _uniform53(words[0], words[1]), _uniform53(words[2], words[3])
            args = [getattr(layer, name)[j] for name in layer.param_names]
            p_plus = drelu_quad(*args)["p_plus"]
            if side <= p_plus:
                x, gamma, sign = args[0], args[2], 1.0
            else:
                x, gamma, sign = -args[1], args[3], -1.0
            sigma = 1 / np.sqrt(gamma)
            expected = sign * sigma * _layers.truncated_normal_excess(-x * sigma, line)
            assert samples[row, j] == pytest.approx(expected, rel=1e-15, abs=0)


# -- rescaling -------------------------------------------------------------------------


def _hidden(cls, n, rng):
    params = {name: rng.normal(0, 1, n) for name in cls.field_names}
    params.update({name: rng.uniform(0.5, 2.0, n) for name in cls.precision_names})
    return cls(n, dtype=np.float64, **params)


def _total_variance(rbm, data):
    inputs = data @ rbm.weights
    mean = rbm.hidden.mean(inputs)
    return rbm.hidden.var(inputs).mean(axis=0) + mean.var(axis=0)


@pytest.mark.parametrize("cls", [Gaussian, ReLU, DReLU])
def test_rescale_keeps_visible_distribution(cls):
    # h -> h / std changes each cgf by -log std, so F(v) moves by the same
    # constant sum log std for every v and p(v) stays the same.
    rng = np.random.default_rng(1)
    visible = Spin(5, dtype=np.float64, theta=rng.normal(0, 0.5, 5))
    rbm = RBM(visible, _hidden(cls, 3, rng), rng.normal(0, 0.5, (5, 3)))
    rbm.weights[:, 1] = 0.0
    states = np.array(np.meshgrid(*[[-1.0, 1.0]] * 5)).reshape(5, -1).T
    data = states[rng.integers(0, 32, 200)]
    before = rbm.free_energy(states)
    std = rescale_hidden_units(rbm, data)
    after = rbm.free_energy(states)
    assert np.allclose(after - before, np.log(std).sum(), rtol=0, atol=1e-10)
    assert np.allclose(_total_variance(rbm, data), 1.0, rtol=1e-10, atol=0)
    # the zero column stays exactly zero and its unit finite
    assert np.all(rbm.weights[:, 1] == 0.0)
    for param in rbm.hidden.params():
        assert np.all(np.isfinite(param))


def test_rescale_weighted_variance():
    rng = np.random.default_rng(2)
    rbm = RBM(Binary(6, dtype=np.float64), _hidden(ReLU, 4, rng),
              rng.normal(0, 1, (6, 4)))
    data = (rng.random((300, 6)) < 0.4).astype(np.float64)
    weights = rng.uniform(0, 2, 300)
    rescale_hidden_units(rbm, data, weights)
    inputs = data @ rbm.weights
    p = weights / weights.sum()
    mean = rbm.hidden.mean(inputs)
    total = p @ rbm.hidden.var(inputs) + p @ (mean - p @ mean) ** 2
    assert np.allclose(total, 1.0, rtol=1e-10, atol=0)


def test_rescale_keeps_constraints():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 400)
    data = (rng.random((400, 12)) < 0.3).astype(np.float64)
    data[y == 1, :4] = 1.0
    constraints = label_constraints(data, y, 6, 2)
    rbm = RBM(Binary(12, dtype=np.float64), _hidden(DReLU, 6, rng),
              rng.normal(0, 1, (12, 6)))
    constraints.project(rbm.weights)
    rescale_hidden_units(rbm, data)
    assert constraints.violation(rbm.weights) < 1e-12


def test_rescale_discrete_rejected():
    layer = Binary(3)
    with pytest.raises(TypeError, match="cannot be rescaled"):
        layer.rescale(2.0)


@pytest.mark.parametrize("scale", [0.0, -1.0, np.inf, np.nan])
def test_rescale_bad_factor_rejected(scale):
    layer = ReLU(3)
    with pytest.raises(ValueError, match="rescale factor"):
        layer.rescale([1.0, scale, 1.0])


def test_rescale_default_on_for_relu():
    assert TrainConfig(hidden="relu").rescales_hidden()
    assert TrainConfig(hidden="drelu").rescales_hidden()
    assert not TrainConfig(hidden="gaussian").rescales_hidden()
    assert TrainConfig(hidden="gaussian", rescale_hidden=True).rescales_hidden()
    assert not TrainConfig(hidden="relu", rescale_hidden=False).rescales_hidden()


# -- validation ----------------------------------------------------------------------


@pytest.mark.parametrize("cls, name", [(ReLU, "gamma"), (DReLU, "gamma_plus"),
                                       (DReLU, "gamma_minus")])
@pytest.mark.parametrize("value", [0.0, -1e-9])
def test_precision_nonpositive_rejected(cls, name, value):
    with pytest.raises(ValueError, match=rf"precision {name} must be > 0, got "
                                         rf"{value} at unit 1"):
        cls(3, dtype=np.float64, **{name: [1.0, value, 1.0]})


@pytest.mark.parametrize("cls, name", [(ReLU, "gamma"), (DReLU, "gamma_minus"),
                                       (DReLU, "theta_plus")])
def test_parameter_nonfinite_rejected(cls, name):
    with pytest.raises(ValueError, match=rf"{name} contains non-finite values "
                                         r"\(nan at unit 2\)"):
        cls(3, **{name: [1.0, 1.0, np.nan]})


@pytest.mark.parametrize("cls", [ReLU, DReLU])
def test_parameter_wrong_shape_rejected(cls):
    with pytest.raises(ValueError, match=r"must have shape \(3,\)"):
        cls(3, **{cls.param_names[0]: [0.0, 1.0]})


def test_unknown_parameter_rejected():
    with pytest.raises(TypeError, match="no parameters"):
        ReLU(3, theta_plus=0.0)


def test_defaults():
    layer = DReLU(2)
    assert np.array_equal(layer.theta_plus, np.zeros(2))
    assert np.array_equal(layer.gamma_minus, np.ones(2))
    assert np.array_equal(ReLU(2).gamma, np.ones(2))


@pytest.mark.parametrize("cls", [ReLU, DReLU])
def test_constrain_keeps_gamma_min(cls):
    layer = cls(3)
    for name in cls.precision_names:
        getattr(layer, name)[:] = [1e-6, 0.5, 2.0]
    layer.constrain_parameters()
    for name in cls.precision_names:
        assert np.array_equal(getattr(layer, name),
                              np.array([cls.gamma_min, 0.5, 2.0], dtype=np.float32))


@pytest.mark.parametrize("name", ["relu", "drelu"])
def test_init_from_data_rejected(name):
    layer = layer_from_name(name, 3, np.float32)
    with pytest.raises(NotImplementedError, match="hidden units only"):
        layer.init_from_data(np.ones((4, 3)))


def test_relu_negative_states_rejected():
    layer = ReLU(3)
    with pytest.raises(ValueError, match=r">= 0.0, got -0.5 at \(sample 1, unit 2\)"):
        layer.energy([[0.0, 1.0, 2.0], [0.0, 1.0, -0.5]])


def test_relu_negative_clamp_rejected():
    rbm = RBM(Binary(4), ReLU(3))
    with pytest.raises(ValueError, match="clamp values of ReLU"):
        rbm.gibbs(np.zeros((2, 4)), Stream.from_seed(0), clamp=([1], [-0.5]))


def test_config_rejects_relu_visible():
    with pytest.raises(ValueError, match="visible must be one of"):
        TrainConfig(visible="relu", hidden="relu").validate()


def test_config_rescale_needs_real_hidden():
    with pytest.raises(ValueError, match="rescale_hidden needs real-valued"):
        TrainConfig(hidden="binary", rescale_hidden=True).validate()
    with pytest.raises(ValueError, match="rescale_hidden must be"):
        TrainConfig(hidden="relu", rescale_hidden="yes").validate()


def test_kernel_rejects_missing_parameters():
    # The C check needs both vectors of a ReLU layer and all four of a dReLU
    # layer.
    inputs = np.zeros((2, 3))
    out = np.empty(2)
    theta = np.zeros(3)
    with pytest.raises(_layers.KernelError, match="invalid arguments"):
        _layers.cgf(3, (theta,), inputs, out)
    with pytest.raises(_layers.KernelError, match="invalid arguments"):
        _layers.cgf(4, (theta, theta, np.ones(3)), inputs, out)
    with pytest.raises(ValueError, match="at most 4"):
        _layers.cgf(4, (theta,) * 5, inputs, out)
    _layers.cgf(4, (theta, theta, np.ones(3), np.ones(3)), inputs, out)
    assert np.all(np.isfinite(out))
