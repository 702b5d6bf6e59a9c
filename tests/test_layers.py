"""Layer kernels against numpy references, sampling statistics and Philox.

References are float64 numpy evaluated on the dtype-cast parameters and
inputs, so a float32 difference comes only from float32 arithmetic in the
kernels.
"""
import numpy as np
import pytest
import relu_reference

from rbmfast._kernels import _layers
from rbmfast.layers import Binary, DReLU, Gaussian, ReLU, Spin
from rbmfast.layers import base as layers_base
from rbmfast.random import Stream

LAYERS = [Binary, Spin, Gaussian, ReLU, DReLU]
# ReLU and dReLU references come from relu_reference (scipy closed forms)
RELU_LAYERS = (ReLU, DReLU)
DTYPES = [np.float32, np.float64]
N_UNITS = 7
EPS32 = float(np.finfo(np.float32).eps)



def _make_layer(cls, dtype, n=N_UNITS, seed=0):
    rng = np.random.default_rng(seed)
    params = {name: rng.normal(0.0, 1.0, n) for name in cls.field_names}
    for name in cls.precision_names:
        params[name] = rng.uniform(0.5, 2.0, n)
    return cls(n, dtype=dtype, **params)


def _inputs(dtype, n_samples=50, n=N_UNITS, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 3.0, (n_samples, n)).astype(dtype)


def _states(layer, n_samples=50, seed=2):
    rng = np.random.default_rng(seed)
    if layer.states is None:
        x = rng.normal(0.0, 2.0, (n_samples, layer.n))
        if layer.minimum is not None:
            x = layer.minimum + np.abs(x)
    else:
        x = rng.choice(np.array(layer.states), (n_samples, layer.n))
    return x.astype(layer.dtype)


def _field(layer, inputs):
    """Return theta + I in float64 from the dtype-cast values (dReLU: theta_+)."""
    return layer.params()[0].astype(np.float64) + inputs.astype(np.float64)


def _field_magnitude(layer, inputs):
    """Return max |theta_f + I| over the layer's fields f, in float64."""
    inputs = inputs.astype(np.float64)
    return np.max([np.abs(getattr(layer, name).astype(np.float64) + inputs)
                   for name in layer.field_names], axis=0)


def _gamma(layer):
    return layer.gamma.astype(np.float64)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def reference_mean(layer, inputs):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["mean"]
    x = _field(layer, inputs)
    if isinstance(layer, Binary):
        return _sigmoid(x)
    if isinstance(layer, Spin):
        return np.tanh(x)
    return x / _gamma(layer)


def reference_var(layer, inputs):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["var"]
    x = _field(layer, inputs)
    if isinstance(layer, Binary):
        p = _sigmoid(x)
        return p * (1.0 - p)
    if isinstance(layer, Spin):
        return 1.0 - np.tanh(x) ** 2
    return np.broadcast_to(1.0 / _gamma(layer), x.shape)


def reference_mode(layer, inputs):
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["mode"]
    x = _field(layer, inputs)
    if isinstance(layer, Binary):
        return (x > 0).astype(np.float64)
    if isinstance(layer, Spin):
        return np.where(x >= 0, 1.0, -1.0)
    return x / _gamma(layer)


def reference_cgf_units(layer, inputs):
    """Return the per-unit cgf, shape (n_samples, n)."""
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_terms(layer, inputs)["cgf"]
    x = _field(layer, inputs)
    if isinstance(layer, Binary):
        return np.logaddexp(0.0, x)
    if isinstance(layer, Spin):
        return np.logaddexp(x, -x)
    g = _gamma(layer)
    return x**2 / (2 * g) + 0.5 * np.log(2 * np.pi / g)


def reference_energy_units(layer, x):
    """Return the per-unit energy U(x), shape (n_samples, n)."""
    if isinstance(layer, RELU_LAYERS):
        return relu_reference.layer_energy_units(layer, x)
    x = x.astype(np.float64)
    u = -layer.theta.astype(np.float64) * x
    if isinstance(layer, Gaussian):
        u = u + 0.5 * _gamma(layer) * x**2
    return u


def _energy_magnitude(layer, x):
    """Return |theta x| + gamma x^2 / 2 per unit, with the side's dReLU values."""
    x = x.astype(np.float64)
    if isinstance(layer, DReLU):
        plus = x >= 0
        theta = np.where(plus, layer.theta_plus, layer.theta_minus)
        gamma = np.where(plus, layer.gamma_plus, layer.gamma_minus)
    else:
        theta = layer.theta
        gamma = layer.gamma if layer.states is None else 0.0
    return np.abs(theta * x) + 0.5 * np.abs(gamma) * x**2


def moment_tolerance(layer, inputs):
    """Return the absolute tolerance of mean, var and mode, per entry.

    Discrete units: values lie in [-1, 1] and come from a sigmoid, so the
    error is absolute, a few ulp of 1 (the dtype's theta + I rounding, exp,
    1 + e and the division): 16 ulp of 1.  Gaussian units: (theta + I) /
    gamma rounds twice, relative to (|theta| + |I|) / gamma: 4 ulp of that.
    ReLU and dReLU units are computed in float64 from theta + I and rounded
    once, so 2 ulp of the value plus the 1e-10 relative error of the
    closed-form references (relu_reference).
    """
    eps = np.finfo(layer.dtype).eps
    if isinstance(layer, RELU_LAYERS):
        value = np.abs(reference_mean(layer, inputs)) + np.sqrt(
            reference_var(layer, inputs))
        return (2 * eps + 1e-10) * value
    if isinstance(layer, Gaussian):
        magnitude = np.abs(layer.theta) + np.abs(inputs.astype(np.float64))
        return 4 * eps * (magnitude / _gamma(layer) + 1.0 / _gamma(layer))
    return np.full(inputs.shape, 16 * eps)


def sum_tolerance(dtype, terms):
    """Return the tolerance of a per-row sum of `terms` (n_samples, n).

    float64: 1e-12 of the summed magnitudes.  float32: 8 ulp of float32 of the
    summed magnitudes, which covers the float32 rounding of theta + I and of
    each term even where the kernel evaluates them in float32.
    """
    magnitude = np.abs(terms).sum(axis=1)
    if np.dtype(dtype) == np.float64:
        return 1e-12 * magnitude
    return 8 * EPS32 * magnitude


# attributes


@pytest.mark.parametrize(
    "cls, kind, names, states",
    [
        (Binary, 0, ("theta",), (0.0, 1.0)),
        (Spin, 1, ("theta",), (-1.0, 1.0)),
        (Gaussian, 2, ("theta", "gamma"), None),
        (ReLU, 3, ("theta", "gamma"), None),
        (DReLU, 4, ("theta_plus", "theta_minus", "gamma_plus", "gamma_minus"), None),
    ],
)
def test_layer_attributes(cls, kind, names, states):
    layer = _make_layer(cls, np.float64)
    assert layer.kind == kind
    assert layer.param_names == names
    assert layer.states == states
    assert layer.n == N_UNITS
    assert len(layer.params()) == len(names)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_parameters_cast_to_dtype(cls, dtype):
    layer = _make_layer(cls, dtype)
    for param in layer.params():
        assert param.dtype == dtype
        assert param.flags.c_contiguous


# moments against numpy


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("moment", ["mean", "var", "mode"])
def test_moment_matches_numpy(cls, dtype, moment):
    layer = _make_layer(cls, dtype)
    inputs = _inputs(dtype)
    reference = {"mean": reference_mean, "var": reference_var,
                 "mode": reference_mode}[moment]
    out = getattr(layer, moment)(inputs)
    assert out.dtype == dtype
    assert out.shape == inputs.shape
    error = np.abs(out - reference(layer, inputs))
    assert np.all(error <= moment_tolerance(layer, inputs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_mode_discrete_exact(cls, dtype):
    # The mode compares theta + I with 0, so only a rounding of theta + I
    # across 0 could change it.  Inputs at least 1e-3 from -theta avoid that.
    layer = _make_layer(cls, dtype)
    inputs = _inputs(dtype)
    inputs = np.where(np.abs(_field(layer, inputs)) < 1e-3, 1.0, inputs).astype(dtype)
    assert np.array_equal(layer.mode(inputs), reference_mode(layer, inputs))


@pytest.mark.parametrize("cls", [Binary, Spin])
def test_mode_at_zero_field(cls):
    # Binary: 1[x > 0] gives 0 at x = 0; Spin: x >= 0 gives +1.
    layer = cls(3, dtype=np.float64, theta=[0.0, 1.0, -1.0])
    inputs = np.array([[0.0, -1.0, 1.0]])
    expected = 0.0 if cls is Binary else 1.0
    assert np.array_equal(layer.mode(inputs), np.full((1, 3), expected))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_cgf_matches_numpy(cls, dtype):
    layer = _make_layer(cls, dtype)
    inputs = _inputs(dtype)
    terms = reference_cgf_units(layer, inputs)
    # The float32 input rounding moves each term by |dcgf/dx| eps |x|, and
    # |dcgf/dx| = |mean|; add that to the magnitudes.
    slope = np.abs(reference_mean(layer, inputs))
    magnitude = np.abs(terms) + slope * _field_magnitude(layer, inputs)
    out = layer.cgf(inputs)
    assert out.dtype == np.float64
    assert out.shape == (inputs.shape[0],)
    error = np.abs(out - terms.sum(axis=1))
    assert np.all(error <= sum_tolerance(dtype, magnitude))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_energy_matches_numpy(cls, dtype):
    layer = _make_layer(cls, dtype)
    x = _states(layer)
    terms = reference_energy_units(layer, x)
    out = layer.energy(x)
    assert out.dtype == np.float64
    assert out.shape == (x.shape[0],)
    magnitude = _energy_magnitude(layer, x)
    error = np.abs(out - terms.sum(axis=1))
    assert np.all(error <= sum_tolerance(dtype, magnitude))


@pytest.mark.parametrize("cls", LAYERS)
def test_one_dimensional_input_is_one_sample(cls):
    layer = _make_layer(cls, np.float64)
    inputs = _inputs(np.float64, n_samples=1)
    assert np.array_equal(layer.mean(inputs[0]), layer.mean(inputs))
    assert np.array_equal(layer.cgf(inputs[0]), layer.cgf(inputs))


@pytest.mark.parametrize("cls", LAYERS)
def test_empty_batch(cls):
    layer = _make_layer(cls, np.float64)
    inputs = np.zeros((0, N_UNITS))
    assert layer.mean(inputs).shape == (0, N_UNITS)
    assert layer.cgf(inputs).shape == (0,)
    assert layer.sample(inputs, Stream.from_seed(0)).shape == (0, N_UNITS)


# numerical stability at large fields

# float32 exp overflows above 88.72, so x = -89 and beyond make exp(-x) inf;
# x = +-88 is the last finite case.  Spin sigmoids see 2 x.
LARGE = np.array([88.0, 89.0, 100.0, 1e3, 1e4])
LARGE_FIELDS = np.concatenate([LARGE, -LARGE])


def _large_layer(cls, dtype):
    # theta = 0.5 and I = x - 0.5 are exact in float32, so theta + I = x.
    n = LARGE_FIELDS.size
    layer = cls(n, dtype=dtype, theta=np.full(n, 0.5))
    inputs = (LARGE_FIELDS - 0.5)[None, :].astype(dtype)
    return layer, inputs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_large_field_cgf_asymptotic(cls, dtype):
    layer, inputs = _large_layer(cls, dtype)
    out = layer.cgf(inputs)
    assert np.all(np.isfinite(out))
    # Binary: log(1 + e^x) = max(x, 0) + log1p(e^-|x|), and e^-88 < 1e-38 is
    # far below 1e-12 of the sum; Spin: log(2 cosh x) = |x| + log1p(e^-2|x|).
    if cls is Binary:
        expected = np.maximum(LARGE_FIELDS, 0.0).sum()
    else:
        expected = np.abs(LARGE_FIELDS).sum()
    assert out[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_large_field_cgf_per_unit(cls, dtype):
    # One unit per call, so each asymptote is checked on its own.
    for x in LARGE_FIELDS:
        layer = cls(1, dtype=dtype, theta=[0.5])
        value = layer.cgf(np.array([[x - 0.5]], dtype=dtype))[0]
        expected = max(x, 0.0) if cls is Binary else abs(x)
        assert np.isfinite(value)
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("cls", [Binary, Spin])
def test_large_field_mean_saturates_float32(cls):
    layer, inputs = _large_layer(cls, np.float32)
    mean = layer.mean(inputs)[0]
    low = 0.0 if cls is Binary else -1.0
    assert np.all(np.isfinite(mean))
    assert np.all(mean[LARGE_FIELDS > 0] == 1.0)
    if cls is Spin:
        # 2 x <= -176 overflows exp, so every negative field gives exactly -1.
        assert np.all(mean[LARGE_FIELDS < 0] == -1.0)
    else:
        # x = -88: sigmoid is 6.05e-39, a float32 subnormal; below -88.72
        # exp(-x) is inf and the sigmoid exactly 0.
        assert np.all(mean[LARGE_FIELDS <= -89] == low)
        assert 0.0 <= mean[LARGE_FIELDS == -88][0] < 1e-37


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_large_field_var_vanishes(cls, dtype):
    layer, inputs = _large_layer(cls, dtype)
    var = layer.var(inputs)
    assert np.all(np.isfinite(var))
    assert np.all(var >= 0.0)
    # The largest variance here is p (1 - p) at |x| = 88, about 6e-39.
    assert np.all(var < 1e-37)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_large_field_mode_and_mean(cls, dtype):
    layer, inputs = _large_layer(cls, dtype)
    low = 0.0 if cls is Binary else -1.0
    expected = np.where(LARGE_FIELDS > 0, 1.0, low)
    assert np.array_equal(layer.mode(inputs)[0], expected)
    # float64 sigmoid(-88) is 6e-39 (not 0), so compare within 1e-37.
    assert np.all(np.abs(layer.mean(inputs)[0] - expected) < 1e-37)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_large_field_sample_is_mode(cls, dtype):
    # |x| >= 89 gives probabilities exactly 0 or 1 in both dtypes' sigmoid
    # for Spin (2 |x| >= 178) and in float32 for Binary; float64 Binary keeps
    # P(x = 1) = e^-89 ~ 2e-39, below the 2^-24 resolution of the uniforms.
    keep = np.abs(LARGE_FIELDS) >= 89
    n = int(keep.sum())
    layer = cls(n, dtype=dtype, theta=np.full(n, 0.5))
    inputs = np.repeat((LARGE_FIELDS[keep] - 0.5)[None, :], 200, axis=0).astype(dtype)
    samples = layer.sample(inputs, Stream.from_seed(5))
    assert np.array_equal(samples, layer.mode(inputs))


def test_large_field_gaussian_finite():
    layer = Gaussian(LARGE_FIELDS.size, dtype=np.float32, theta=0.5, gamma=2.0)
    inputs = (LARGE_FIELDS - 0.5)[None, :].astype(np.float32)
    assert np.all(np.isfinite(layer.mean(inputs)))
    assert np.all(np.isfinite(layer.cgf(inputs)))
    assert np.all(np.isfinite(layer.sample(inputs, Stream.from_seed(0))))


# sampling

N_DRAWS = 20000


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_sample_mean_matches_conditional(cls, dtype):
    layer = _make_layer(cls, dtype, n=5)
    rng = np.random.default_rng(3)
    # Fields within [-2, 2] keep every variance away from 0.
    inputs = rng.uniform(-2.0, 2.0, (N_DRAWS, 5)) - layer.params()[0].astype(np.float64)
    inputs = inputs.astype(dtype)
    samples = layer.sample(inputs, Stream.from_seed(11))
    mean = reference_mean(layer, inputs)
    var = reference_var(layer, inputs)
    # Rows are independent draws, so the column sum of (x - E[x]) has
    # standard deviation sqrt(sum Var[x]); 5 of them bound a correct sampler
    # except with probability about 6e-7 per unit.
    deviation = (samples.astype(np.float64) - mean).sum(axis=0)
    standard_error = np.sqrt(var.sum(axis=0))
    assert np.all(np.abs(deviation) < 5 * standard_error)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Binary, Spin])
def test_sample_discrete_states(cls, dtype):
    layer = _make_layer(cls, dtype)
    samples = layer.sample(_inputs(dtype, n_samples=500), Stream.from_seed(0))
    assert samples.dtype == dtype
    assert np.all(np.isin(samples, layer.states))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_gaussian_mean_and_variance(dtype):
    gamma = np.array([0.5, 1.0, 2.0, 4.0])
    theta = np.array([-1.0, 0.0, 0.5, 3.0])
    layer = Gaussian(4, dtype=dtype, theta=theta, gamma=gamma)
    inputs = np.tile(np.array([0.5, -0.25, 1.0, -2.0]), (N_DRAWS, 1)).astype(dtype)
    samples = layer.sample(inputs, Stream.from_seed(7)).astype(np.float64)
    mean = (theta + inputs[0].astype(np.float64)) / gamma
    var = 1.0 / gamma
    # Standard errors of the sample mean, sqrt(var / n), and of the sample
    # variance of normal draws, var sqrt(2 / (n - 1)); 5 of each.
    mean_error = np.abs(samples.mean(axis=0) - mean)
    assert np.all(mean_error < 5 * np.sqrt(var / N_DRAWS))
    var_error = np.abs(samples.var(axis=0, ddof=1) - var)
    assert np.all(var_error < 5 * var * np.sqrt(2.0 / (N_DRAWS - 1)))


@pytest.mark.parametrize("cls", LAYERS)
def test_sample_advances_call(cls):
    layer = _make_layer(cls, np.float64)
    stream = Stream.from_seed(4)
    key = stream.key
    layer.sample(_inputs(np.float64), stream)
    assert stream.call == 1
    assert stream.key == key
    layer.sample(_inputs(np.float64), stream)
    assert stream.call == 2


@pytest.mark.parametrize("cls", LAYERS)
def test_sample_calls_differ(cls):
    layer = _make_layer(cls, np.float64)
    inputs = _inputs(np.float64, n_samples=200)
    stream = Stream.from_seed(4)
    first = layer.sample(inputs, stream)
    second = layer.sample(inputs, stream)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_sample_same_state_identical(cls, dtype):
    layer = _make_layer(cls, dtype)
    inputs = _inputs(dtype, n_samples=200)
    first = layer.sample(inputs, Stream(key=(123, 456), call=9))
    second = layer.sample(inputs, Stream(key=(123, 456), call=9))
    assert np.array_equal(first, second)


@pytest.mark.parametrize("cls", LAYERS)
def test_sample_keys_differ(cls):
    layer = _make_layer(cls, np.float64)
    inputs = _inputs(np.float64, n_samples=200)
    first = layer.sample(inputs, Stream(key=(1, 2), call=0))
    second = layer.sample(inputs, Stream(key=(1, 3), call=0))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("cls", LAYERS)
def test_sample_row0_offsets_rows(cls):
    # Row b draws from stream row row0 + b, so sampling rows 70: with
    # row0 = 70 repeats rows 70: of the full batch.
    layer = _make_layer(cls, np.float64)
    inputs = _inputs(np.float64, n_samples=150)
    full = layer.sample(inputs, Stream(key=(5, 6), call=3))
    tail = layer.sample(inputs[70:], Stream(key=(5, 6), call=3), row0=70)
    assert np.array_equal(tail, full[70:])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_sample_thread_count_independent(cls, dtype):
    layer = _make_layer(cls, dtype)
    inputs = _inputs(dtype, n_samples=300)
    one = layer.sample(inputs, Stream(key=(8, 9), call=0), n_threads=1)
    two = layer.sample(inputs, Stream(key=(8, 9), call=0), n_threads=2)
    assert np.array_equal(one, two)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", LAYERS)
def test_moments_thread_count_independent(cls, dtype):
    layer = _make_layer(cls, dtype)
    inputs = _inputs(dtype, n_samples=300)
    assert np.array_equal(layer.mean(inputs, n_threads=1), layer.mean(inputs, n_threads=2))
    assert np.array_equal(layer.cgf(inputs, n_threads=1), layer.cgf(inputs, n_threads=2))


# parameter and input validation


@pytest.mark.parametrize("gamma", [0.0, -1.0, [1.0, 0.0, 1.0], [1.0, 1.0, -1e-9]])
def test_gaussian_gamma_nonpositive_rejected(gamma):
    with pytest.raises(ValueError, match="gamma"):
        Gaussian(3, gamma=gamma)


def test_gaussian_gamma_nan_rejected():
    with pytest.raises(ValueError, match="gamma"):
        Gaussian(3, gamma=[1.0, np.nan, 1.0])


@pytest.fixture
def kernels_forbidden(monkeypatch):
    """Make every layer kernel call fail, to prove checks run before C code."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a layer kernel ran before the input was checked")

    for name in ("sample", "moment", "cgf", "energy"):
        monkeypatch.setattr(layers_base._layers, name, forbidden)


def _call(layer, method, x):
    if method == "sample":
        return layer.sample(x, Stream.from_seed(0))
    return getattr(layer, method)(x)


METHODS = ["mean", "var", "mode", "cgf", "sample", "energy"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("shape", [(4, N_UNITS + 1), (4, N_UNITS - 1), (N_UNITS + 1,),
                                   (2, 3, N_UNITS)])
def test_wrong_width_rejected(kernels_forbidden, cls, method, shape):
    layer = _make_layer(cls, np.float64)
    with pytest.raises(ValueError, match="shape"):
        _call(layer, method, np.zeros(shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", ["mean", "var", "mode", "cgf", "sample"])
@pytest.mark.parametrize("cls", LAYERS)
def test_nonfinite_inputs_rejected(kernels_forbidden, cls, method, bad):
    layer = _make_layer(cls, np.float32)
    x = np.zeros((3, N_UNITS))
    x[2, 4] = bad
    with pytest.raises(ValueError, match="non-finite"):
        _call(layer, method, x)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("cls", LAYERS)
def test_nonfinite_states_rejected(kernels_forbidden, cls, bad):
    layer = _make_layer(cls, np.float64)
    x = _states(layer, n_samples=3)
    x[1, 2] = bad
    with pytest.raises(ValueError, match="non-finite"):
        layer.energy(x)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float_overflow_to_float32_rejected(kernels_forbidden):
    # 1e39 is finite in float64 but overflows to inf when cast to float32.
    layer = _make_layer(Gaussian, np.float32)
    x = np.zeros((1, N_UNITS))
    x[0, 0] = 1e39
    with pytest.raises(ValueError, match="non-finite"):
        layer.mean(x)


@pytest.mark.parametrize("method", ["energy", "check_states"])
@pytest.mark.parametrize("cls, bad", [(Binary, 0.5), (Binary, 2.0), (Binary, -1.0),
                                      (Spin, 0.0), (Spin, 0.5), (Spin, 2.0)])
def test_invalid_states_rejected(kernels_forbidden, cls, bad, method):
    layer = _make_layer(cls, np.float64)
    x = _states(layer, n_samples=4)
    x[3, 1] = bad
    with pytest.raises(ValueError, match="must be (0 or 1|-1 or 1)"):
        getattr(layer, method)(x)


@pytest.mark.parametrize("cls", LAYERS)
def test_check_states_returns_valid_batch(cls):
    layer = _make_layer(cls, np.float32)
    x = _states(layer, n_samples=4).astype(np.float64)
    out = layer.check_states(x)
    assert out.dtype == np.float32
    assert np.array_equal(out, x)


def test_non_numeric_inputs_rejected(kernels_forbidden):
    layer = _make_layer(Binary, np.float64)
    with pytest.raises(TypeError, match="numeric"):
        layer.mean(np.array([["a"] * N_UNITS]))


# Philox4x32-10 known-answer vectors from Random123 (kat_vectors)


@pytest.mark.parametrize(
    "counter, key, expected",
    [
        ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2,
         [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
        ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
         [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
    ],
)
def test_philox_known_answers(counter, key, expected):
    assert _layers.philox_block(counter, key) == expected
