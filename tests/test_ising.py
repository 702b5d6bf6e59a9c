"""2D Ising kernels and rbmfast.datasets.ising: observables, sampling
against exact results, determinism, input checks and files."""
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.integrate import quad

from rbmfast._kernels import _ising
from rbmfast.datasets.ising import (T_CRITICAL, IsingSamples, exact_energy_per_spin,
                                    exact_magnetisation, load_ising, save_ising,
                                    simulate_ising)

KEY = (12345, 678)


def random_spins(n_chains, L, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1, 1], dtype=np.int8), (n_chains, L, L))


def reference_observables(spins, field):
    """Energy and magnetisation per spin by numpy, from the same bonds (right
    and down neighbours, periodic) as the kernel."""
    s = spins.astype(np.int64)
    bonds = (s * (np.roll(s, -1, axis=1) + np.roll(s, -1, axis=2))).sum(axis=(1, 2))
    total = s.sum(axis=(1, 2))
    n_sites = spins.shape[1] * spins.shape[2]
    return (-bonds - field * total) / n_sites, total / n_sites


def exact_lattice_averages(L, T, field):
    """<E> / N and <|M|> / N of the L x L lattice by summing over all 2^(L^2)
    states (L <= 4)."""
    n_sites = L * L
    codes = np.arange(2**n_sites)[:, None]
    states = (((codes >> np.arange(n_sites)) & 1) * 2 - 1).reshape(-1, L, L)
    energy, magnetisation = reference_observables(states, field)
    log_weight = -n_sites * energy / T
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    return float(weight @ energy), float(weight @ np.abs(magnetisation))


def chain_standard_error(values, chain):
    """Standard error of the mean of `values`, from the means of the
    independent chains."""
    means = np.array([values[chain == c].mean() for c in np.unique(chain)])
    return means.std(ddof=1) / math.sqrt(means.size)


# observables


@pytest.mark.parametrize("L", [2, 3, 8])
@pytest.mark.parametrize("field", [0.0, 0.7])
def test_observables_match_numpy(L, field):
    spins = random_spins(6, L, seed=L)
    energy, magnetisation = _ising.observables(spins, field)
    ref_energy, ref_magnetisation = reference_observables(spins, field)
    np.testing.assert_allclose(energy, ref_energy, rtol=0, atol=1e-14)
    np.testing.assert_allclose(magnetisation, ref_magnetisation, rtol=0, atol=1e-14)


def test_observables_ordered_states():
    spins = np.ones((2, 5, 5), dtype=np.int8)
    spins[1] = -1
    energy, magnetisation = _ising.observables(spins, 0.5)
    np.testing.assert_allclose(energy, [-2.5, -1.5])
    np.testing.assert_allclose(magnetisation, [1.0, -1.0])


@pytest.mark.parametrize("mean", [0.0, 0.4, 0.9])
def test_independent_spin_energy(mean):
    # Spins drawn independently with mean m have energy per spin -2 m^2 on
    # average; 4000 lattices of 16 x 16 give a standard error below 0.002.
    # -2 <m^2> over lattices is lower by 2 Var(m) = 2 (1 - m^2) / 256.
    from rbmfast.report_ising import independent_spin_energy

    rng = np.random.default_rng(7)
    spins = np.where(rng.random((4000, 16, 16)) < (1 + mean) / 2, 1, -1).astype(np.int8)
    energy, magnetisation = _ising.observables(spins, 0.0)
    assert independent_spin_energy(magnetisation) == pytest.approx(-2 * mean**2,
                                                                  abs=0.01)
    assert energy.mean() == pytest.approx(independent_spin_energy(magnetisation),
                                          abs=0.015)


# exact results of the infinite lattice


def onsager_energy_by_integral(T, dbeta=1e-5):
    """u = d(beta f) / d beta from Onsager's free energy
    -beta f = log(2 cosh 2b) + (1 / 2 pi) int_0^pi log((1 + sqrt(1 - k^2
    sin^2 t)) / 2) dt, k = 2 sinh 2b / cosh^2 2b, by central differences."""
    def minus_beta_f(beta):
        k = 2 * math.sinh(2 * beta) / math.cosh(2 * beta) ** 2
        integral, _ = quad(
            lambda t: math.log((1 + math.sqrt(1 - (k * math.sin(t)) ** 2)) / 2),
            0, math.pi, epsabs=1e-13, epsrel=1e-13)
        return math.log(2 * math.cosh(2 * beta)) + integral / (2 * math.pi)

    beta = 1 / T
    return -(minus_beta_f(beta + dbeta) - minus_beta_f(beta - dbeta)) / (2 * dbeta)


@pytest.mark.parametrize("T", [0.8, 1.5, 2.0, 2.6, 3.5, 10.0])
def test_exact_energy_matches_free_energy(T):
    # 1e-7 covers the central-difference error, of order dbeta^2 times the
    # third derivative, away from T_c.
    assert abs(exact_energy_per_spin(T) - onsager_energy_by_integral(T)) < 1e-7


def test_exact_energy_limits():
    assert exact_energy_per_spin(T_CRITICAL) == pytest.approx(-math.sqrt(2), abs=1e-12)
    assert exact_energy_per_spin(0.01) == pytest.approx(-2.0, abs=1e-12)
    # High-temperature series: Z / (2 cosh^2(beta))^N = 1 + N v^4 + ..., with
    # v = tanh(beta), so u = -2 v - 4 v^3 + O(v^5).
    v = math.tanh(1e-3)
    assert exact_energy_per_spin(1000.0) == pytest.approx(-2 * v - 4 * v**3, rel=1e-9)


def test_exact_energy_array_shape():
    u = exact_energy_per_spin([1.0, 2.0, 3.0])
    assert u.shape == (3,)
    assert np.all(np.diff(u) > 0)


def test_exact_magnetisation_values():
    assert exact_magnetisation(1.5) == pytest.approx(
        (1 - math.sinh(2 / 1.5) ** -4) ** 0.125, rel=1e-15)
    assert exact_magnetisation(0.01) == 1.0
    assert exact_magnetisation(T_CRITICAL) == 0.0
    assert exact_magnetisation(3.5) == 0.0
    # M vanishes continuously at T_c, as (T_c - T)^(1/8)
    assert 0.0 < exact_magnetisation(T_CRITICAL - 1e-6) < 0.25


@pytest.mark.parametrize("function", [exact_energy_per_spin, exact_magnetisation])
@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), [1.0, -2.0]])
def test_exact_functions_reject_temperature(function, T):
    with pytest.raises(ValueError, match="finite and > 0"):
        function(T)


# sampling: exact averages of small lattices


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("algorithm, T, field", [
    ("metropolis", 2.269, 0.0),
    ("metropolis", 2.269, 0.5),
    ("metropolis", 3.5, 0.0),
    ("wolff", 2.269, 0.0),
    ("wolff", 3.5, 0.0),
])
def test_sampling_matches_enumeration(L, algorithm, T, field):
    # Every state of an L <= 4 lattice is summed, so the reference has no
    # finite-size or statistical error, and odd L and the doubled bonds of
    # L = 2 are covered.  The standard error comes from 200 independent
    # chains, and a correct sampler stays within 5 of them except with
    # probability about 1e-6.  Measured standard errors are at most 0.0034
    # (energy) and 0.0013 (|m|).
    data = simulate_ising(L, [T], 100_000, seed=11, n_equilibration=200,
                          n_between=2, field=field, algorithm=algorithm,
                          n_chains=200, n_threads=1)
    exact_energy, exact_abs_m = exact_lattice_averages(L, T, field)
    energy_error = chain_standard_error(data.energy, data.chain)
    abs_m_error = chain_standard_error(data.abs_magnetisation, data.chain)
    assert energy_error < 0.01
    assert abs_m_error < 0.005
    assert abs(data.energy.mean() - exact_energy) < 5 * energy_error
    assert abs(data.abs_magnetisation.mean() - exact_abs_m) < 5 * abs_m_error


def test_metropolis_leaves_zero_energy_stripes():
    # In s(i, j) = f((i + j) mod 4), f = (+1, +1, -1, -1), every site has
    # neighbour sum 0.  If such moves were always accepted the whole lattice
    # would flip each sweep and the energy would stay 0 forever.
    i, j = np.indices((8, 8))
    stripes = np.array([1, 1, -1, -1], dtype=np.int8)[(i + j) % 4]
    spins = np.ascontiguousarray(np.repeat(stripes[None], 4, axis=0))
    assert np.all(_ising.observables(spins)[0] == 0.0)
    _ising.metropolis(spins, 1 / 1.5, 0.0, 50, KEY, 0, n_threads=1)
    energy, _ = _ising.observables(spins)
    assert np.all(energy < -1.0)


# sampling: Onsager's infinite lattice, L = 16


@pytest.fixture(scope="module")
def onsager_runs():
    runs = {}
    for algorithm in ("metropolis", "wolff"):
        runs[algorithm] = simulate_ising(16, [1.5, 3.5], 2048, seed=3,
                                         n_equilibration=500, n_between=5,
                                         algorithm=algorithm, n_chains=32,
                                         n_threads=1)
    return runs


def _at(data, T):
    return data.temperature == T


# Tolerances: over 5 seeds of these runs the standard errors (from 32 chain
# means) were at most 0.0011 for the energy at T = 1.5, 0.0003 for |m| at
# T = 1.5 and 0.0027 for the energy at T = 3.5, and the tolerances are about
# 5 of them.  Finite-size corrections decay as exp(-L / xi), and the exact
# correlation lengths are xi = 0.63 at T = 1.5 (1 / (2 (2 beta - log coth
# beta))) and xi = 1.41 at T = 3.5 (1 / (log coth beta - 2 beta)), so at
# L = 16 the corrections are of order 1e-5, far below these tolerances.
ENERGY_TOLERANCE = {1.5: 0.005, 3.5: 0.013}
ABS_M_TOLERANCE_T15 = 0.0015


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
@pytest.mark.parametrize("T", [1.5, 3.5])
def test_energy_matches_onsager(onsager_runs, algorithm, T):
    data = onsager_runs[algorithm]
    energy = data.energy[_at(data, T)].mean()
    assert abs(energy - exact_energy_per_spin(T)) < ENERGY_TOLERANCE[T]


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_magnetisation_matches_onsager(onsager_runs, algorithm):
    data = onsager_runs[algorithm]
    abs_m = data.abs_magnetisation[_at(data, 1.5)].mean()
    assert abs(abs_m - exact_magnetisation(1.5)) < ABS_M_TOLERANCE_T15


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_magnetisation_small_above_tc(onsager_runs, algorithm):
    # Above T_c, |m| of a finite lattice is of order sqrt(chi / L^2) with a
    # susceptibility chi of a few at T = 3.5, about 0.12 for L = 16, and
    # goes to 0 as L grows.  An ordered chain would give |m| near 1.
    data = onsager_runs[algorithm]
    assert data.abs_magnetisation[_at(data, 3.5)].mean() < 0.2


@pytest.mark.parametrize("T", [1.5, 3.5])
def test_algorithms_agree(onsager_runs, T):
    # Tolerances are sqrt(2) times the single-run ones, because the
    # difference of two independent means has sqrt(2) times the error.
    metropolis, wolff = onsager_runs["metropolis"], onsager_runs["wolff"]
    energy_gap = metropolis.energy[_at(metropolis, T)].mean() - \
        wolff.energy[_at(wolff, T)].mean()
    abs_m_gap = metropolis.abs_magnetisation[_at(metropolis, T)].mean() - \
        wolff.abs_magnetisation[_at(wolff, T)].mean()
    assert abs(energy_gap) < math.sqrt(2) * ENERGY_TOLERANCE[T]
    # standard errors of |m|: 0.0003 at T = 1.5, 0.0026 at T = 3.5
    assert abs(abs_m_gap) < {1.5: 0.002, 3.5: 0.018}[T]


# output layout


def test_simulate_output_layout():
    data = simulate_ising(6, [2.0, 3.0, 4.0], 7, seed=1, n_equilibration=20,
                          n_between=3, algorithm="metropolis", n_chains=3)
    assert isinstance(data, IsingSamples)
    assert data.spins.shape == (21, 36)
    assert data.spins.dtype == np.float32
    assert set(np.unique(data.spins)) == {-1.0, 1.0}
    np.testing.assert_array_equal(data.temperature_index, np.repeat([0, 1, 2], 7))
    np.testing.assert_array_equal(data.temperature, np.repeat([2.0, 3.0, 4.0], 7))
    # 7 samples from 3 chains: rounds of chains 0, 1, 2, then chain 0 only
    np.testing.assert_array_equal(data.chain[:7], [0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(data.updates_between, [3, 3, 3])
    assert (data.L, data.field, data.algorithm) == (6, 0.0, "metropolis")


@pytest.mark.parametrize("algorithm, field", [("metropolis", 0.4), ("wolff", 0.0)])
def test_simulate_observables_match_spins(algorithm, field):
    data = simulate_ising(5, [1.8, 2.5], 10, seed=2, n_equilibration=10,
                          algorithm=algorithm, field=field)
    spins = data.spins.reshape(-1, 5, 5).astype(np.int8)
    energy, magnetisation = reference_observables(spins, field)
    np.testing.assert_allclose(data.energy, energy, rtol=0, atol=1e-14)
    np.testing.assert_allclose(data.abs_magnetisation, np.abs(magnetisation),
                               rtol=0, atol=1e-14)


def test_wolff_updates_scale_with_cluster_size():
    data = simulate_ising(16, [1.5, 3.5], 4, n_equilibration=20, n_between=2)
    # Near-complete clusters at T = 1.5 need few updates per L^2 flips,
    # clusters of a few sites at T = 3.5 need many.
    low, high = data.updates_between
    assert 2 <= low <= 10
    assert high > 40


# determinism and streams


def test_metropolis_calls_split_into_sweeps():
    beta = np.array([0.3, 0.5, 0.7])
    whole = random_spins(3, 10)
    parts = whole.copy()
    _ising.metropolis(whole, beta, 0.2, 10, KEY, 100)
    _ising.metropolis(parts, beta, 0.2, 4, KEY, 100)
    _ising.metropolis(parts, beta, 0.2, 6, KEY, 104)
    np.testing.assert_array_equal(whole, parts)


def test_wolff_calls_split_into_clusters():
    beta = np.array([0.3, 0.5, 0.7])
    whole = random_spins(3, 10)
    parts = whole.copy()
    done, flipped = _ising.wolff(whole, beta, 10, KEY, 100)
    done_a, flipped_a = _ising.wolff(parts, beta, 4, KEY, 100)
    done_b, flipped_b = _ising.wolff(parts, beta, 6, KEY, 104)
    np.testing.assert_array_equal(whole, parts)
    np.testing.assert_array_equal(done, [10, 10, 10])
    np.testing.assert_array_equal(flipped, flipped_a + flipped_b)


@pytest.mark.parametrize("update", ["metropolis", "wolff"])
def test_next_call_numbers_give_new_draws(update):
    start = random_spins(4, 12)
    results = []
    for call in (0, 0, 1):
        spins = start.copy()
        if update == "metropolis":
            _ising.metropolis(spins, 0.4, 0.0, 1, KEY, call)
        else:
            _ising.wolff(spins, 0.4, 1, KEY, call)
        results.append(spins)
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])


def test_chains_draw_independently():
    # Identical lattices in every chain must still evolve differently,
    # because each chain has its own counter space.
    spins = np.repeat(random_spins(1, 12), 3, axis=0)
    _ising.metropolis(spins, 0.3, 0.0, 1, KEY, 0)
    assert not np.array_equal(spins[0], spins[1])
    assert not np.array_equal(spins[1], spins[2])


def test_wolff_stops_at_flip_budget():
    spins = random_spins(5, 16)
    done, flipped = _ising.wolff(spins, 0.3, 1000, KEY, 0, max_flips=256)
    assert np.all(flipped >= 256)
    assert np.all(done < 1000)


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_simulate_reproducible_by_seed(algorithm):
    kwargs = dict(n_equilibration=30, n_between=2, algorithm=algorithm)
    first = simulate_ising(8, [1.5, 3.0], 6, seed=4, **kwargs)
    again = simulate_ising(8, [1.5, 3.0], 6, seed=4, **kwargs)
    other = simulate_ising(8, [1.5, 3.0], 6, seed=5, **kwargs)
    np.testing.assert_array_equal(first.spins, again.spins)
    assert not np.array_equal(first.spins, other.spins)


def test_simulate_saved_states_of_chain_differ():
    data = simulate_ising(8, [3.0], 12, n_equilibration=10, n_between=1,
                          algorithm="metropolis", n_chains=3)
    for c in range(3):
        rows = data.spins[data.chain == c]
        assert len(np.unique(rows, axis=0)) == len(rows)


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_simulate_same_for_one_and_two_threads(algorithm):
    # 2 temperatures x 16 chains of L = 16 is above the kernels' serial
    # threshold, so n_threads=2 really runs on two threads.
    kwargs = dict(seed=6, n_equilibration=40, n_between=3, algorithm=algorithm,
                  n_chains=16)
    one = simulate_ising(16, [1.8, 3.0], 32, n_threads=1, **kwargs)
    two = simulate_ising(16, [1.8, 3.0], 32, n_threads=2, **kwargs)
    np.testing.assert_array_equal(one.spins, two.spins)
    np.testing.assert_array_equal(one.energy, two.energy)
    np.testing.assert_array_equal(one.updates_between, two.updates_between)


_THREAD_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np
    import threadpoolctl

    from rbmfast.datasets.ising import simulate_ising

    out = sys.argv[1]
    for algorithm in ("metropolis", "wolff"):
        data = simulate_ising(16, [2.0, 3.0], 32, seed=8, n_equilibration=30,
                              n_between=2, algorithm=algorithm, n_chains=16)
        np.save(f"{out}/{algorithm}.npy", data.spins)
    openmp = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p["user_api"] == "openmp"]
    with open(f"{out}/openmp.json", "w") as f:
        json.dump(openmp, f)
""")


def test_simulate_same_under_omp_num_threads(tmp_path):
    folders = {}
    for n_threads in (1, 2):
        folder = tmp_path / f"threads{n_threads}"
        folder.mkdir()
        env = dict(os.environ, OMP_NUM_THREADS=str(n_threads))
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(folder)],
                       env=env, check=True, timeout=120)
        folders[n_threads] = folder
    for n_threads, folder in folders.items():
        assert json.loads((folder / "openmp.json").read_text()) == [n_threads]
    for algorithm in ("metropolis", "wolff"):
        one = np.load(folders[1] / f"{algorithm}.npy")
        two = np.load(folders[2] / f"{algorithm}.npy")
        np.testing.assert_array_equal(one, two)


# invalid input


@pytest.mark.parametrize("temperatures", [0.0, -1.5, [2.0, 0.0], float("inf"),
                                          float("nan"), []])
def test_simulate_rejects_temperature(temperatures):
    with pytest.raises(ValueError, match="temperatures"):
        simulate_ising(4, temperatures, 2)


def test_simulate_error_names_bad_temperature():
    with pytest.raises(ValueError, match=r"got -2.0 at index 1"):
        simulate_ising(4, [1.0, -2.0], 2)


def test_simulate_rejects_repeated_temperature():
    with pytest.raises(ValueError, match="temperatures lists T = 2 twice"):
        simulate_ising(4, [2.0, 3.0, 2.0], 8)


@pytest.mark.parametrize("function", [
    lambda T: simulate_ising(4, T, 2, algorithm="metropolis"),
    exact_energy_per_spin,
    exact_magnetisation,
])
def test_tiny_temperature_names_bound(function):
    # 1 / 1e-320 overflows to inf, which the kernels reject as beta.
    message = (r"T = 1e-320 at index 1, which is too small because 1/T overflows "
               r"float64; use T >= 1e-308")
    with pytest.raises(ValueError, match=message):
        function([2.0, 1e-320])


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_simulate_accepts_smallest_temperature(algorithm):
    data = simulate_ising(4, [1e-308, 2.0], 2, n_equilibration=2,
                          algorithm=algorithm)
    assert data.temperatures[0] == 1e-308
    assert np.all(np.isfinite(data.energy))


@pytest.mark.parametrize("L", [1, 0, -3])
def test_simulate_rejects_small_lattice(L):
    with pytest.raises(ValueError, match=f"L must be >= 2, got {L}"):
        simulate_ising(L, [2.0], 2)


@pytest.mark.parametrize("L", [4.0, True, "8"])
def test_simulate_rejects_non_integer_side(L):
    with pytest.raises(TypeError, match="L must be an integer"):
        simulate_ising(L, [2.0], 2)


@pytest.mark.parametrize("n", [0, -1])
def test_simulate_rejects_sample_count(n):
    with pytest.raises(ValueError, match=f"n_per_temperature must be >= 1, got {n}"):
        simulate_ising(4, [2.0], n)


def test_simulate_rejects_field_with_wolff():
    with pytest.raises(ValueError, match="field=0.5"):
        simulate_ising(4, [2.0], 2, field=0.5, algorithm="wolff")


def test_simulate_rejects_unknown_algorithm():
    with pytest.raises(ValueError, match="'heatbath'"):
        simulate_ising(4, [2.0], 2, algorithm="heatbath")


@pytest.mark.parametrize("name, value, message", [
    ("n_between", 0, "n_between must be >= 1, got 0"),
    ("n_equilibration", -1, "n_equilibration must be >= 0, got -1"),
    ("n_chains", 0, "n_chains must be >= 1, got 0"),
    ("field", float("nan"), "field must be finite"),
])
def test_simulate_rejects_setting(name, value, message):
    with pytest.raises(ValueError, match=message):
        simulate_ising(4, [2.0], 2, algorithm="metropolis", **{name: value})


def test_simulate_wolff_needs_equilibration():
    with pytest.raises(ValueError, match="n_equilibration must be >= 1, got 0"):
        simulate_ising(4, [2.0], 2, n_equilibration=0, algorithm="wolff")


def test_simulate_rejects_bad_thread_count():
    with pytest.raises(ValueError, match="n_threads=0"):
        simulate_ising(4, [2.0], 2, n_threads=0)


@pytest.mark.parametrize("spins, error, message", [
    (np.ones((2, 4, 4)), TypeError, "dtype int8"),
    ([[[1, -1], [1, 1]]], TypeError, "numpy array"),
    (np.ones((2, 4, 5), dtype=np.int8), ValueError, "shape"),
    (np.ones((4, 4), dtype=np.int8), ValueError, "shape"),
    (np.ones((2, 1, 1), dtype=np.int8), ValueError, "L must be in"),
    (np.ones((2, 8, 8), dtype=np.int8)[:, ::2, ::2], ValueError, "C-contiguous"),
])
def test_kernels_reject_spin_array(spins, error, message):
    with pytest.raises(error, match=message):
        _ising.observables(spins)
    with pytest.raises(error, match=message):
        _ising.metropolis(spins, 0.5, 0.0, 1, KEY, 0)


def test_kernels_name_bad_spin_value():
    spins = np.ones((2, 3, 3), dtype=np.int8)
    spins[1, 2, 0] = 0
    with pytest.raises(ValueError, match=r"got 0 at index \(1, 2, 0\)"):
        _ising.observables(spins)
    with pytest.raises(ValueError, match=r"got 0 at index \(1, 2, 0\)"):
        _ising.wolff(spins, 0.5, 1, KEY, 0)


def test_kernels_reject_read_only_spins():
    spins = np.ones((1, 4, 4), dtype=np.int8)
    spins.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _ising.metropolis(spins, 0.5, 0.0, 1, KEY, 0)
    # reading is fine
    assert _ising.observables(spins)[0][0] == -2.0


@pytest.mark.parametrize("beta", [-0.1, float("nan"), [0.5, 0.5, 0.5]])
def test_kernels_reject_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        _ising.metropolis(random_spins(2, 4), beta, 0.0, 1, KEY, 0)


def test_wolff_kernel_rejects_field():
    with pytest.raises(ValueError, match="field = 0, got 0.1"):
        _ising.wolff(random_spins(2, 4), 0.5, 1, KEY, 0, field=0.1)


@pytest.mark.parametrize("n_clusters, error", [
    (-1, ValueError), ([1, 2, 3], ValueError), (1.5, TypeError)])
def test_wolff_kernel_rejects_cluster_count(n_clusters, error):
    with pytest.raises(error, match="n_clusters"):
        _ising.wolff(random_spins(2, 4), 0.5, n_clusters, KEY, 0)


# files


def test_save_load_round_trip(tmp_path):
    data = simulate_ising(6, [1.7, 2.9], 5, seed=9, n_equilibration=10,
                          algorithm="metropolis", field=0.25)
    path = tmp_path / "ising.npz"
    save_ising(path, data)
    loaded = load_ising(path)
    for name in ("spins", "temperature_index", "temperature", "energy",
                 "abs_magnetisation", "chain", "temperatures", "updates_between"):
        original, copy = getattr(data, name), getattr(loaded, name)
        assert copy.dtype == original.dtype, name
        np.testing.assert_array_equal(copy, original, err_msg=name)
    assert (loaded.L, loaded.field, loaded.algorithm) == (6, 0.25, "metropolis")


def test_save_keeps_path_without_suffix(tmp_path):
    data = simulate_ising(4, [2.0], 2, n_equilibration=5)
    path = tmp_path / "samples"
    save_ising(path, data)
    assert path.is_file()
    assert load_ising(path).spins.shape == (2, 16)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_ising(tmp_path / "absent.npz")


def test_load_rejects_non_npz(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("not a zip archive")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        load_ising(path)


def test_load_rejects_missing_array(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, spins=np.ones((2, 4), dtype=np.int8))
    with pytest.raises(ValueError, match="missing arrays"):
        load_ising(path)


def test_load_rejects_pickled_arrays(tmp_path):
    data = simulate_ising(4, [2.0], 2, n_equilibration=5)
    path = tmp_path / "object.npz"
    save_ising(path, data)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["energy"] = np.array([{"a": 1}, None], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="pickle"):
        load_ising(path)


def _edited_file(tmp_path, edit):
    """Save a small valid file, apply `edit` to its arrays, save it again."""
    data = simulate_ising(4, [2.0, 3.0], 4, n_equilibration=5, n_chains=2)
    path = tmp_path / "edited.npz"
    save_ising(path, data)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    edit(arrays)
    np.savez(path, **arrays)
    return path


def _set(name, value):
    def edit(arrays):
        arrays[name] = value(arrays) if callable(value) else value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set("L", np.array([4, 4])), "'L' must be a single value"),
    (_set("temperature_index", lambda a: a["temperature_index"] + 0.7),
     "'temperature_index' must contain integers"),
    (_set("temperature", lambda a: a["temperature"][::-1].copy()),
     "has temperature 3.0 but temperature_index 0"),
    (_set("temperatures", np.array([2.0, 3.0, 4.0])),
     r"temperatures \[4.0\] have no samples"),
    (_set("temperatures", np.array([2.0, 2.0])), "lists T = 2 twice"),
    (_set("temperatures", np.array([2.0, np.nan])), "finite and > 0, got nan"),
    (_set("algorithm", np.array("bogus")), "'wolff' or 'metropolis', got 'bogus'"),
    (_set("chain", lambda a: a["chain"] - 5), "chain numbers must be >= 0"),
])
def test_load_rejects_inconsistent_file(tmp_path, edit, message):
    with pytest.raises(ValueError, match=message):
        load_ising(_edited_file(tmp_path, edit))


def test_load_rejects_file_without_samples(tmp_path):
    def empty(arrays):
        for name in ("spins", "temperature_index", "temperature", "energy",
                     "abs_magnetisation", "chain"):
            arrays[name] = arrays[name][:0]
    with pytest.raises(ValueError, match="contains no samples"):
        load_ising(_edited_file(tmp_path, empty))


def test_load_rejects_folder(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        load_ising(tmp_path)


def test_save_rejects_other_types(tmp_path):
    with pytest.raises(TypeError, match="IsingSamples"):
        save_ising(tmp_path / "x.npz", {"spins": np.ones((1, 4))})


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("edit, message", [
    (_set("L", np.array(1)), r"'L' must be an integer in \[2, 32768\], the lattice "
     r"side, got 1; set it to the square root of the number of columns of 'spins'"),
    (_set("L", np.array(-4)), r"'L' must be an integer in \[2, 32768\].*got -4;"),
    (_set("L", np.array(4.7)), r"'L' must be an integer in \[2, 32768\].*got 4.7;"),
    (_set("L", np.array(np.nan)), r"'L' must be an integer in \[2, 32768\].*got nan;"),
    (_set("L", np.array("four")),
     r"'L' must be an integer in \[2, 32768\].*got 'four';"),
    (_set("L", np.array(True)), r"'L' must be an integer in \[2, 32768\].*got True;"),
    (_set("L", np.array(40_000)),
     r"'L' must be an integer in \[2, 32768\].*got 40000;"),
    (_set("field", np.array("abc")),
     "'field' must be a finite real number, the external field h, got 'abc'"),
    (_set("field", np.array(np.nan)), "'field' must be a finite real number.*got nan"),
    (_set("field", np.array(np.inf)), "'field' must be a finite real number.*got inf"),
    (_set("field", np.array(0.5)), "'field' is 0.5, but the Wolff algorithm"),
    (_set("format_version", np.array("x")),
     "'format_version' must be an integer, got 'x'; this version of rbmfast reads "
     "format 1"),
    (_set("format_version", np.array(1.5)), "'format_version' must be an integer, got 1.5"),
    (_set("format_version", np.array(2)),
     "'format_version' is 2, but this version of rbmfast reads only Ising file "
     "format 1"),
    (_set("temperatures", np.array(["2.0", "3.0"])),
     "'temperatures' must contain real numbers, got dtype <U3"),
    (_set("temperatures", np.array([2.0, 1e-320])),
     r"'temperatures' contains T = 1e-320 at index 1, which is too small because "
     r"1/T overflows float64; use T >= 1e-308"),
    (_set("temperature", lambda a: a["temperature"].astype(str)),
     "'temperature' must contain real numbers, got dtype <U"),
    (_set("updates_between", np.array(["x", "y"])),
     "'updates_between' must contain integers, got dtype <U1"),
    (_set("updates_between", np.array([np.nan, 1.0])),
     "'updates_between' must contain integers, got nan at index 0"),
    (_set("updates_between", np.array([3.0, 2.5])),
     "'updates_between' must contain integers, got 2.5 at index 1"),
    (_set("updates_between", np.array([3, 0])),
     "'updates_between' must be >= 1.*got 0 at index 1"),
    (_set("updates_between", np.array([3])),
     r"'updates_between' has shape \(1,\), expected \(2,\), one entry per temperature"),
    (_set("spins", lambda a: a["spins"].astype(np.complex128)),
     "'spins' must be an integer or float array of -1 and \\+1, got dtype complex128"),
    (_set("spins", lambda a: a["spins"] > 0),
     "'spins' must be an integer or float array.*got dtype bool"),
    (_set("spins", lambda a: a["spins"].astype(str)),
     "'spins' must be an integer or float array.*got dtype <U"),
    (_set("spins", lambda a: a["spins"] * 0.5),
     r"'spins' must be -1 or \+1, got -?0.5 at row 0, column 0"),
    (_set("energy", lambda a: np.where(np.arange(a["energy"].size) == 3, np.nan,
                                       a["energy"])),
     "'energy' must be finite, got nan at index 3"),
    (_set("abs_magnetisation", lambda a: a["abs_magnetisation"].astype(complex)),
     "'abs_magnetisation' must contain real numbers, got dtype complex128"),
    (_set("chain", lambda a: a["chain"] + 0.5),
     "'chain' must contain integers, got 0.5 at index 0"),
])
def test_load_rejects_invalid_array(tmp_path, edit, message):
    path = _edited_file(tmp_path, edit)
    with pytest.raises(ValueError, match=message) as error:
        load_ising(path)
    assert str(error.value).startswith(f"{path}: ")


def test_load_accepts_integral_floats(tmp_path):
    def to_float(arrays):
        for name in ("L", "format_version", "updates_between", "chain"):
            arrays[name] = arrays[name].astype(np.float64)
    data = load_ising(_edited_file(tmp_path, to_float))
    assert data.L == 4
    assert type(data.L) is int
    assert data.updates_between.dtype == np.int64
    assert data.chain.dtype == np.int64


def _small_samples():
    return simulate_ising(4, [2.0, 3.0], 4, n_equilibration=5, n_chains=2)


def _replace(name, value):
    def edit(data):
        setattr(data, name, value(data) if callable(value) else value)
    return edit


@pytest.mark.parametrize("edit, message", [
    (_replace("spins", lambda d: d.spins * 0.5),
     r"'spins' must be -1 or \+1, got -?0.5 at row 0, column 0"),
    (_replace("spins", lambda d: d.spins.astype(np.complex64)),
     "'spins' must be an integer or float array.*got dtype complex64"),
    (_replace("temperatures", np.array([2.0, 2.0])), "lists T = 2 twice"),
    (_replace("temperatures", np.array([2.0, 1e-320])), "1/T overflows float64"),
    (_replace("L", 1), r"'L' must be an integer in \[2, 32768\].*got 1;"),
    (_replace("L", 4.5), r"'L' must be an integer in \[2, 32768\].*got 4.5;"),
    (_replace("L", 5), r"'spins' must have shape \(n, 25\) for L = 5"),
    (_replace("field", float("nan")), "'field' must be a finite real number"),
    (_replace("algorithm", "heatbath"), "'wolff' or 'metropolis', got 'heatbath'"),
    (_replace("updates_between", np.array([0, 3])), "'updates_between' must be >= 1"),
    (_replace("chain", lambda d: d.chain - 1), "chain numbers must be >= 0"),
])
def test_save_rejects_invalid_samples(tmp_path, edit, message):
    data = _small_samples()
    edit(data)
    path = tmp_path / "out.npz"
    with pytest.raises(ValueError, match=message) as error:
        save_ising(path, data)
    assert str(error.value).startswith(f"IsingSamples to save to {path}: ")
    assert not path.exists()


def test_save_invalid_keeps_old_file(tmp_path):
    path = tmp_path / "out.npz"
    data = _small_samples()
    save_ising(path, data)
    before = path.read_bytes()
    data.spins = data.spins * 0.5
    with pytest.raises(ValueError, match="'spins' must be -1 or"):
        save_ising(path, data)
    assert path.read_bytes() == before


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_old_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "out.npz"
    save_ising(path, _small_samples())
    before = path.read_bytes()

    def write_half(file, **arrays):
        file.write(before[:len(before) // 2])
        raise failure

    monkeypatch.setattr(np, "savez_compressed", write_half)
    with pytest.raises(type(failure)):
        save_ising(path, simulate_ising(4, [1.5, 2.5], 4, n_equilibration=5))
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [path]


def test_save_replaces_old_file(tmp_path):
    path = tmp_path / "out.npz"
    save_ising(path, _small_samples())
    save_ising(path, simulate_ising(4, [1.5, 2.5], 4, n_equilibration=5))
    assert load_ising(path).temperatures.tolist() == [1.5, 2.5]
    assert sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("name, error, message", [
    ("missing/x.npz", FileNotFoundError, "missing of .*x.npz does not exist"),
    ("folder", IsADirectoryError, "is a folder"),
])
def test_save_ising_names_bad_path(tmp_path, name, error, message):
    (tmp_path / "folder").mkdir()
    data = simulate_ising(4, [2.0, 3.0], 4, seed=0, n_chains=2, n_threads=1)
    with pytest.raises(error, match=message):
        save_ising(tmp_path / name, data)
    assert not list(tmp_path.glob("**/*.tmp"))
