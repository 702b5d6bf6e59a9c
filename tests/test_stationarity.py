"""Block-Gibbs sampling leaves the exact distribution of small RBMs invariant.

With 5 visible units the 32 visible states can be enumerated, so p(v) is
exact: p(v) is proportional to exp(-F(v)).  Chains started from exact samples
stay exactly distributed after any number of correct sweeps.  The chains are
independent of each other because each has its own stream row, so after k
sweeps their empirical distribution has the same law as that of iid exact
samples.  The tests compare its total-variation (TV) distance to p with the
expected TV of iid samples.

Clamping hidden units c to values s_c gives the conditional
    p(v | h_c = s_c) = sum_{h_rest} p(v, h) / p(h_c = s_c)
        proportional to  exp(-U_v(v) + sum_c s_c v.W_c
                             + sum_{mu not clamped} Gamma_mu(v.W_mu)),
because E(v, h) = U_v(v) + U_h(h) - v^T W h separates over hidden units:
the clamped units contribute exp(s_c v.W_c - U_c(s_c)), whose U_c(s_c)
does not depend on v, and summing each free unit gives exp(Gamma_mu).
"""
import itertools

import numpy as np
import pytest
from scipy.stats import binom

from rbmfast.layers import Binary, DReLU, Gaussian, ReLU, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM

VISIBLE = [Binary, Spin]
HIDDEN = [Binary, Spin, Gaussian, ReLU, DReLU]
DTYPES = [np.float32, np.float64]
N_VISIBLE = 5
N_HIDDEN = 3
N_SAMPLES = 20000
# Cumulative sweep counts at which the chains are checked.
SWEEPS = (1, 4, 16)
# TV must stay below this many times its expected value for exact samples.
FLOOR_FACTOR = 4.0
# Clamp values per hidden type: a valid state, and a second one for a
# second clamped unit.
CLAMP_VALUE = {Binary: 1.0, Spin: -1.0, Gaussian: 0.8, ReLU: 0.8, DReLU: -0.8}
SECOND_CLAMP_VALUE = {Binary: 0.0, Spin: 1.0, Gaussian: -0.8, ReLU: 0.0, DReLU: 1.2}


def _make_rbm(vis_cls, hid_cls, dtype, seed):
    rng = np.random.default_rng(seed)
    visible = vis_cls(N_VISIBLE, dtype=dtype, theta=rng.normal(0.0, 0.5, N_VISIBLE))
    hidden_params = {name: rng.normal(0.0, 0.5, N_HIDDEN)
                     for name in hid_cls.field_names}
    for name in hid_cls.precision_names:
        hidden_params[name] = rng.uniform(1.0, 2.0, N_HIDDEN)
    hidden = hid_cls(N_HIDDEN, dtype=dtype, **hidden_params)
    weights = rng.normal(0.0, 0.5, (N_VISIBLE, N_HIDDEN))
    return RBM(visible, hidden, weights)


def _visible_states(layer):
    """Return all 2^N visible states, state k at row k (unit 0 most significant)."""
    return np.array(list(itertools.product(layer.states, repeat=layer.n)),
                    dtype=np.float64)


def _state_index(layer, v):
    """Return the row of each state of `v` in _visible_states(layer)."""
    low, high = layer.states
    bits = np.rint((np.asarray(v, dtype=np.float64) - low) / (high - low))
    powers = 2 ** np.arange(layer.n - 1, -1, -1)
    return bits.astype(np.int64) @ powers


def _normalise(log_weights):
    p = np.exp(log_weights - log_weights.max())
    return p / p.sum()


def exact_distribution(rbm):
    """Return p(v) over _visible_states, from the float64 free energy."""
    rbm64 = rbm.astype(np.float64)
    return _normalise(-rbm64.free_energy(_visible_states(rbm64.visible)))


def clamped_distribution(rbm, units, values):
    """Return p(v | h_units = values) over _visible_states (module docstring)."""
    rbm64 = rbm.astype(np.float64)
    states = _visible_states(rbm64.visible)
    free = np.setdiff1d(np.arange(rbm64.n_hidden), units)
    hidden = rbm64.hidden
    free_hidden = type(hidden)(free.size, dtype=np.float64,
                               **{name: param[free] for name, param in
                                  zip(hidden.param_names, hidden.params())})
    free_rbm = RBM(rbm64.visible, free_hidden, rbm64.weights[:, free])
    coupling = states @ rbm64.weights[:, units] @ np.asarray(values, dtype=np.float64)
    return _normalise(-free_rbm.free_energy(states) + coupling)


def _brute_force_clamped(rbm, unit, value):
    """Return p(v | h_unit = value) by summing exp(-E(v, h)) over discrete h."""
    rbm64 = rbm.astype(np.float64)
    states = _visible_states(rbm64.visible)
    hidden_states = np.array(list(itertools.product(rbm64.hidden.states,
                                                    repeat=rbm64.n_hidden)))
    hidden_states = hidden_states[hidden_states[:, unit] == value]
    minus_energy = (-rbm64.visible.energy(states)[:, None]
                    - rbm64.hidden.energy(hidden_states)[None, :]
                    + states @ rbm64.weights @ hidden_states.T)
    shift = minus_energy.max()
    return _normalise(np.log(np.exp(minus_energy - shift).sum(axis=1)))


def expected_tv(p, n):
    """Return E[TV(empirical, p)] for n iid draws from p, exactly.

    TV = sum_v |X_v - n p_v| / (2 n) with X_v ~ Binomial(n, p_v), and de
    Moivre's closed form gives E|X - n p| = 2 m (1 - p) P(X = m) with
    m = floor(n p) + 1.  This is exact for every p, where the normal
    approximation sum_v sqrt(p_v (1 - p_v) / (2 pi n)) overestimates the TV
    of states with n p_v below about 0.2.
    """
    m = np.floor(n * p) + 1
    mean_abs = 2 * m * (1 - p) * binom.pmf(m, n, p)
    return mean_abs.sum() / (2 * n)


def total_variation(layer, v, p):
    counts = np.bincount(_state_index(layer, v), minlength=p.size)
    return 0.5 * np.abs(counts / counts.sum() - p).sum()


def exact_samples(layer, p, n, seed):
    states = _visible_states(layer)
    rng = np.random.default_rng(seed)
    return states[rng.choice(p.size, size=n, p=p)].astype(layer.dtype)


def _check_sweeps(rbm, p, v, stream, clamp=None):
    """Run the SWEEPS schedule from `v`; return (sweeps, TV) pairs."""
    results = []
    done = 0
    for sweeps in SWEEPS:
        v, _ = rbm.gibbs(v, stream, n_steps=sweeps - done, clamp=clamp)
        done = sweeps
        results.append((sweeps, total_variation(rbm.visible, v, p)))
    return results


# the reference distributions


@pytest.mark.parametrize("hid_cls", [Binary, Spin])
@pytest.mark.parametrize("vis_cls", VISIBLE)
def test_clamped_formula_brute_force(vis_cls, hid_cls):
    rbm = _make_rbm(vis_cls, hid_cls, np.float64, seed=0)
    for value in hid_cls.states:
        formula = clamped_distribution(rbm, [1], [value])
        brute_force = _brute_force_clamped(rbm, 1, value)
        # Both are normalised float64 sums of at most 8 exponentials.
        assert np.allclose(formula, brute_force, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("vis_cls", VISIBLE)
def test_state_index_round_trip(vis_cls):
    layer = vis_cls(N_VISIBLE, dtype=np.float64)
    states = _visible_states(layer)
    assert np.array_equal(_state_index(layer, states), np.arange(2**N_VISIBLE))


def test_expected_tv_matches_simulation():
    # The mean TV of 400 simulated sets of 2000 draws has a standard error of
    # about 0.4 % of the mean; 5 % leaves a wide margin.
    p = _normalise(np.random.default_rng(1).normal(0.0, 1.5, 32))
    rng = np.random.default_rng(2)
    counts = rng.multinomial(2000, p, size=400)
    simulated = (0.5 * np.abs(counts / 2000 - p).sum(axis=1)).mean()
    assert simulated == pytest.approx(expected_tv(p, 2000), rel=0.05)


@pytest.mark.parametrize("vis_cls", VISIBLE)
def test_exact_samples_within_floor(vis_cls):
    # Control: the exact samples themselves pass the check the chains face.
    rbm = _make_rbm(vis_cls, Binary, np.float64, seed=0)
    p = exact_distribution(rbm)
    v = exact_samples(rbm.visible, p, N_SAMPLES, seed=1)
    floor = expected_tv(p, N_SAMPLES)
    assert total_variation(rbm.visible, v, p) < FLOOR_FACTOR * floor


# stationarity of the Gibbs sweeps


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
@pytest.mark.parametrize("vis_cls", VISIBLE)
def test_gibbs_stationary(vis_cls, hid_cls, dtype):
    rbm = _make_rbm(vis_cls, hid_cls, dtype, seed=3)
    p = exact_distribution(rbm)
    v = exact_samples(rbm.visible, p, N_SAMPLES, seed=4)
    floor = expected_tv(p, N_SAMPLES)
    for sweeps, tv in _check_sweeps(rbm, p, v, Stream.from_seed(5)):
        assert tv < FLOOR_FACTOR * floor, f"TV {tv:.4f} after {sweeps} sweeps"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hid_cls", HIDDEN)
@pytest.mark.parametrize("vis_cls", VISIBLE)
def test_gibbs_clamped_stationary(vis_cls, hid_cls, dtype):
    rbm = _make_rbm(vis_cls, hid_cls, dtype, seed=6)
    value = CLAMP_VALUE[hid_cls]
    p = clamped_distribution(rbm, [1], [value])
    v = exact_samples(rbm.visible, p, N_SAMPLES, seed=7)
    floor = expected_tv(p, N_SAMPLES)
    results = _check_sweeps(rbm, p, v, Stream.from_seed(8), clamp=([1], [value]))
    for sweeps, tv in results:
        assert tv < FLOOR_FACTOR * floor, f"TV {tv:.4f} after {sweeps} sweeps"


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_gibbs_two_clamped_stationary(hid_cls):
    rbm = _make_rbm(Binary, hid_cls, np.float32, seed=9)
    values = [CLAMP_VALUE[hid_cls], SECOND_CLAMP_VALUE[hid_cls]]
    p = clamped_distribution(rbm, [2, 0], values)
    v = exact_samples(rbm.visible, p, N_SAMPLES, seed=10)
    floor = expected_tv(p, N_SAMPLES)
    results = _check_sweeps(rbm, p, v, Stream.from_seed(11), clamp=([2, 0], values))
    for sweeps, tv in results:
        assert tv < FLOOR_FACTOR * floor, f"TV {tv:.4f} after {sweeps} sweeps"


@pytest.mark.parametrize("vis_cls", VISIBLE)
def test_gibbs_per_chain_clamp_stationary(vis_cls):
    # Even chains clamp h_1 = 1, odd chains h_1 = 0; each half must keep its
    # own conditional, which checks that chain b reads clamp row b in every
    # chunk of chains.
    rbm = _make_rbm(vis_cls, Binary, np.float32, seed=12)
    half = N_SAMPLES // 2
    p_on = clamped_distribution(rbm, [1], [1.0])
    p_off = clamped_distribution(rbm, [1], [0.0])
    v = np.empty((N_SAMPLES, N_VISIBLE), dtype=np.float32)
    v[0::2] = exact_samples(rbm.visible, p_on, half, seed=13)
    v[1::2] = exact_samples(rbm.visible, p_off, half, seed=14)
    values = np.zeros((N_SAMPLES, 1))
    values[0::2] = 1.0
    v, _ = rbm.gibbs(v, Stream.from_seed(15), n_steps=SWEEPS[-1], clamp=([1], values))
    tv_on = total_variation(rbm.visible, v[0::2], p_on)
    tv_off = total_variation(rbm.visible, v[1::2], p_off)
    assert tv_on < FLOOR_FACTOR * expected_tv(p_on, half)
    assert tv_off < FLOOR_FACTOR * expected_tv(p_off, half)


# power: the check rejects a wrong sampler


@pytest.mark.parametrize("hid_cls", HIDDEN)
def test_check_rejects_wrong_machine(hid_cls):
    # Chains of the machine with weights scaled by 1.5 are compared with p of
    # the original machine.  The check must fail here, because otherwise it
    # could not catch a sampler bug of that size.
    rbm = _make_rbm(Spin, hid_cls, np.float64, seed=16)
    wrong = RBM(rbm.visible, rbm.hidden, 1.5 * rbm.weights)
    p = exact_distribution(rbm)
    v = exact_samples(rbm.visible, p, N_SAMPLES, seed=17)
    v, _ = wrong.gibbs(v, Stream.from_seed(18), n_steps=SWEEPS[-1])
    assert total_variation(rbm.visible, v, p) > FLOOR_FACTOR * expected_tv(p, N_SAMPLES)


def test_check_rejects_ignored_clamp():
    # Unclamped chains do not follow p(v | h_1 = 0).  The clamp value is the
    # unlikely state of h_1 (its weights are mostly positive for seed 19),
    # where p(v | h_1 = 0) is at TV 0.12 from p(v), twice the threshold; the
    # likely state h_1 = 1 moves p by only 0.04, below what 20000 samples
    # resolve.
    rbm = _make_rbm(Binary, Binary, np.float64, seed=19)
    p = clamped_distribution(rbm, [1], [0.0])
    v = exact_samples(rbm.visible, p, N_SAMPLES, seed=20)
    v, _ = rbm.gibbs(v, Stream.from_seed(21), n_steps=SWEEPS[-1])
    assert total_variation(rbm.visible, v, p) > FLOOR_FACTOR * expected_tv(p, N_SAMPLES)
