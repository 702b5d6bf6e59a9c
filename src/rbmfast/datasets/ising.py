"""Samples of the 2D Ising model, with Onsager's exact results to check them.

The model is an L x L periodic lattice of spins s_i = +1 or -1 with energy
E = -J sum_<ij> s_i s_j - h sum_i s_i, J = 1, where <ij> runs over the 2 L^2
nearest-neighbour bonds.  :func:`simulate_ising` runs independent Markov
chains with the C kernels of :mod:`rbmfast._kernels._ising` and returns
spins as float32 rows of -1/+1, the states of the :class:`rbmfast.layers.Spin`
visible layer.
"""
from __future__ import annotations

import math
import numbers
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import ellipk

from rbmfast._kernels import _ising
from rbmfast._threads import resolve_threads
from rbmfast.random import Stream, seed_sequence

__all__ = [
    "IsingSamples",
    "T_CRITICAL",
    "check_distinct_temperatures",
    "check_temperature_values",
    "exact_energy_per_spin",
    "exact_magnetisation",
    "load_ising",
    "save_ising",
    "simulate_ising",
    "split_by_chain",
]

#: Critical temperature of the infinite square lattice, 2 / log(1 + sqrt 2).
T_CRITICAL = 2.0 / math.log1p(math.sqrt(2.0))

ALGORITHMS = ("wolff", "metropolis")

# Spawn key of the seed's SeedSequence for this module: child 0 sets the
# random initial lattices, child 1 the Philox stream of the kernels.  It
# differs from the training keys (0, 1, 2), so the same seed can serve both.
_SPAWN_KEY = 3

# Chains per temperature when n_chains is None, or n_per_temperature if that
# is smaller.
_DEFAULT_CHAINS = 16

_FILE_FORMAT = 1
_FILE_ARRAYS = ("spins", "temperature_index", "temperature", "energy",
                "abs_magnetisation", "chain", "temperatures", "updates_between")
_FILE_SCALARS = ("L", "field", "algorithm", "format_version")

# Smallest round temperature whose inverse is a finite float64: 1 / T
# overflows to inf for T below about 5.6e-309 (1 / the largest float64).
_MIN_TEMPERATURE = 1e-308


@dataclass
class IsingSamples:
    """Saved states of Ising chains and their observables.

    Sample rows are ordered by temperature, then by the time they were
    saved, then by chain.

    Attributes
    ----------
    spins : ndarray of float32, shape (n_samples, L * L)
        Lattices flattened in C order (site (i, j) at column i L + j), values
        -1.0 and +1.0.
    temperature_index : ndarray of int64, shape (n_samples,)
        Index into `temperatures`.
    temperature : ndarray of float64, shape (n_samples,)
        Temperature of each sample, ``temperatures[temperature_index]``.
    energy : ndarray of float64, shape (n_samples,)
        Energy per spin E / L^2, including the field term.
    abs_magnetisation : ndarray of float64, shape (n_samples,)
        Absolute magnetisation per spin, |sum_i s_i| / L^2.
    chain : ndarray of int64, shape (n_samples,)
        Index of the chain within its temperature.  Samples of one chain are
        correlated to a degree that depends on `updates_between`.
    temperatures : ndarray of float64, shape (n_temperatures,)
        The simulated temperatures, in the order given.
    updates_between : ndarray of int64, shape (n_temperatures,)
        Metropolis sweeps or Wolff clusters run between two saved samples of
        a chain, per temperature.
    L : int
        Lattice side.
    field : float
        External field h.
    algorithm : str
        ``"wolff"`` or ``"metropolis"``.
    """

    spins: np.ndarray
    temperature_index: np.ndarray
    temperature: np.ndarray
    energy: np.ndarray
    abs_magnetisation: np.ndarray
    chain: np.ndarray
    temperatures: np.ndarray
    updates_between: np.ndarray
    L: int
    field: float
    algorithm: str


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_count(name, value, minimum):
    if not _is_integer(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_temperatures(temperatures, name="temperatures"):
    values = np.asarray(temperatures, dtype=np.float64)
    if values.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got shape "
                         f"{values.shape}")
    flat = values.reshape(-1)
    if flat.size == 0:
        raise ValueError(f"{name} must not be empty")
    check_temperature_values(flat, name)
    return values


def check_temperature_values(values, name, error=ValueError):
    """Raise `error` naming `name` unless every temperature in `values` is valid.

    A valid temperature is finite and > 0 and has a finite inverse, the
    kernels' beta.
    """
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~(np.isfinite(flat) & (flat > 0)))
    if bad.size:
        raise error(f"{name} must be finite and > 0, got {flat[bad[0]]} at "
                    f"index {int(bad[0])}")
    with np.errstate(divide="ignore", over="ignore"):
        tiny = np.flatnonzero(~np.isfinite(1.0 / flat))
    if tiny.size:
        raise error(f"{name} contains T = {float(flat[tiny[0]])} at index "
                    f"{int(tiny[0])}, which is too small because 1/T overflows "
                    f"float64; use T >= {_MIN_TEMPERATURE:g}")


def _check_arguments(L, temperatures, n_per_temperature, n_equilibration,
                     n_between, field, algorithm, n_chains):
    L = _check_count("L", L, 2)
    if L > _ising.MAX_L:
        raise ValueError(f"L must be <= {_ising.MAX_L}, got {L}")
    temps = _check_temperatures(temperatures).reshape(-1)
    check_distinct_temperatures(temps.tolist(), "temperatures")
    n_per_temperature = _check_count("n_per_temperature", n_per_temperature, 1)
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"algorithm must be 'wolff' or 'metropolis', got {algorithm!r}")
    # Wolff needs at least one equilibration round to measure the mean
    # cluster size that sets the number of clusters between samples.
    minimum_equilibration = 1 if algorithm == "wolff" else 0
    n_equilibration = _check_count("n_equilibration", n_equilibration,
                                   minimum_equilibration)
    n_between = _check_count("n_between", n_between, 1)
    if isinstance(field, bool) or not isinstance(field, numbers.Real):
        raise TypeError(f"field must be a real number, got {field!r}")
    field = float(field)
    if not math.isfinite(field):
        raise ValueError(f"field must be finite, got {field}")
    if algorithm == "wolff" and field != 0.0:
        raise ValueError(f"the Wolff algorithm needs field = 0, got field={field}; "
                         "use algorithm='metropolis' for a nonzero field")
    if n_chains is None:
        n_chains = min(n_per_temperature, _DEFAULT_CHAINS)
    n_chains = _check_count("n_chains", n_chains, 1)
    return L, temps, n_per_temperature, n_equilibration, n_between, field, n_chains


def _equilibrate_wolff(spins, beta, n_equilibration, stream, n_threads):
    """Equilibrate with Wolff rounds of about L^2 flipped spins each.

    Returns the spins flipped and the clusters grown by every chain over the
    second half of the rounds (at least the last round).
    """
    n_sites = spins.shape[1] * spins.shape[2]
    n_chains = spins.shape[0]
    flipped = np.zeros(n_chains, dtype=np.int64)
    done = np.zeros(n_chains, dtype=np.int64)
    first_counted = n_equilibration // 2
    for round_index in range(n_equilibration):
        # Each cluster flips at least one spin, so n_sites clusters always
        # reach the budget of n_sites flips.
        n_done, n_flipped = _ising.wolff(
            spins, beta, n_sites, stream.key, stream.take(n_sites),
            max_flips=n_sites, n_threads=n_threads)
        if round_index >= first_counted:
            flipped += n_flipped
            done += n_done
    return flipped, done


def simulate_ising(L, temperatures, n_per_temperature, seed=0,
                   n_equilibration=1000, n_between=10, field=0.0,
                   algorithm="wolff", n_chains=None, n_threads=None):
    """Sample 2D Ising lattices at one or more temperatures.

    Every temperature gets `n_chains` independent chains, each started from
    uniformly random spins.  After `n_equilibration` equilibration steps a
    chain saves its state, then runs `n_between` steps before each further
    saved state, until the temperature has `n_per_temperature` samples.

    With ``algorithm="metropolis"`` a step is one checkerboard Metropolis
    sweep (every site once).  A move that changes the energy by dE is
    accepted with probability min(1, exp(-dE / T)), except that moves with
    dE = 0 are accepted with probability 1/2.  With acceptance 1 the fixed
    sweep order would trap some zero-energy states in a deterministic cycle
    that never reaches the other states (every L = 2 state with opposite
    diagonal spins, for example).

    With ``algorithm="wolff"`` a step is a batch of Wolff clusters that
    flips about L^2 spins in total, the work of one sweep:

    - an equilibration step grows clusters until it has flipped at least L^2
      spins.  This stopping rule depends on the state, which is allowed only
      because equilibration states are discarded;
    - between saved samples a temperature runs a fixed number of clusters,
      ``ceil(n_between L^2 / <C>)``, where <C> is the mean cluster size of
      its chains over the second half of the equilibration.  The count is
      fixed so that the saved states keep the Boltzmann distribution.

    Wolff decorrelates far faster than Metropolis near T_CRITICAL, where a
    Metropolis chain needs of order L^2.17 sweeps per independent sample
    (dynamic exponent z of about 2.17).  From a random start at low
    temperature, Metropolis can also stay for a long time in a state with
    two straight domain walls across the lattice.  Such a state has an
    energy per spin about 4 / L above equilibrium, so Metropolis needs a
    longer equilibration there.

    Parameters
    ----------
    L : int
        Lattice side, >= 2; the lattice has L^2 spins.
    temperatures : float or sequence of float
        Temperatures T = 1 / beta in units of J, distinct, each finite and
        > 0 with a finite 1 / T (T >= 1e-308 is enough).
    n_per_temperature : int
        Samples saved per temperature, >= 1.
    seed : int, default 0
        Non-negative seed of the initial lattices and of the kernels'
        Philox stream.  The result depends only on the arguments other
        than `n_threads`.
    n_equilibration : int, default 1000
        Equilibration steps per chain, >= 0 (>= 1 for Wolff).
    n_between : int, default 10
        Steps between two saved samples of a chain, >= 1.
    field : float, default 0.0
        External field h.  Only the Metropolis algorithm supports h != 0.
    algorithm : {"wolff", "metropolis"}, default "wolff"
    n_chains : int, optional
        Chains per temperature; default min(n_per_temperature, 16).  More
        chains give more independent samples and more parallel work, at the
        cost of more equilibration.
    n_threads : int, optional
        OpenMP threads; None uses the OpenMP default (``OMP_NUM_THREADS``).

    Returns
    -------
    IsingSamples
        ``n_temperatures * n_per_temperature`` samples.

    Raises
    ------
    TypeError
        If a count or the field has the wrong type.
    ValueError
        If a temperature is not finite and > 0, is so small that 1 / T
        overflows, or is repeated, L < 2, n_per_temperature < 1,
        another count is out of range, the algorithm is unknown, or
        field != 0 with Wolff.
    """
    (L, temps, n_per_temperature, n_equilibration, n_between, field,
     n_chains) = _check_arguments(L, temperatures, n_per_temperature,
                                  n_equilibration, n_between, field,
                                  algorithm, n_chains)
    threads = resolve_threads(n_threads)
    n_temperatures = temps.size
    n_sites = L * L
    # Chain b runs at temperature b // n_chains.
    chain_temperature = np.repeat(np.arange(n_temperatures), n_chains)
    beta = 1.0 / temps[chain_temperature]

    init_rng = np.random.default_rng(seed_sequence(seed, _SPAWN_KEY, 0))
    spins = np.where(init_rng.random((chain_temperature.size, L, L)) < 0.5,
                     1, -1).astype(np.int8)
    stream = Stream.from_seed(seed, _SPAWN_KEY, 1)

    if algorithm == "metropolis":
        _ising.metropolis(spins, beta, field, n_equilibration, stream.key,
                          stream.take(n_equilibration), n_threads=threads)
        updates_between = np.full(n_temperatures, n_between, dtype=np.int64)
    else:
        flipped, done = _equilibrate_wolff(spins, beta, n_equilibration, stream,
                                           threads)
        flipped_per_temperature = flipped.reshape(n_temperatures, n_chains).sum(axis=1)
        done_per_temperature = done.reshape(n_temperatures, n_chains).sum(axis=1)
        mean_size = flipped_per_temperature / done_per_temperature
        updates_between = np.ceil(n_between * n_sites / mean_size).astype(np.int64)
    clusters_per_chain = updates_between[chain_temperature]

    n_rounds = (n_per_temperature + n_chains - 1) // n_chains
    saved = np.empty((n_rounds, chain_temperature.size, n_sites), dtype=np.int8)
    energy = np.empty((n_rounds, chain_temperature.size))
    magnetisation = np.empty((n_rounds, chain_temperature.size))
    for r in range(n_rounds):
        if r > 0 and algorithm == "metropolis":
            _ising.metropolis(spins, beta, field, n_between, stream.key,
                              stream.take(n_between), n_threads=threads)
        elif r > 0:
            _ising.wolff(spins, beta, clusters_per_chain, stream.key,
                         stream.take(int(clusters_per_chain.max())),
                         n_threads=threads)
        saved[r] = spins.reshape(spins.shape[0], n_sites)
        energy[r], magnetisation[r] = _ising.observables(spins, field,
                                                          n_threads=threads)

    # Keep n_per_temperature samples per temperature: every chain's state
    # from the first rounds, then the first chains of the last round.
    t, r, c = np.meshgrid(np.arange(n_temperatures), np.arange(n_rounds),
                          np.arange(n_chains), indexing="ij")
    keep = (r * n_chains + c) < n_per_temperature
    t, r, c = t[keep], r[keep], c[keep]
    column = t * n_chains + c
    return IsingSamples(
        spins=saved[r, column].astype(np.float32),
        temperature_index=t.astype(np.int64),
        temperature=temps[t],
        energy=energy[r, column],
        abs_magnetisation=np.abs(magnetisation[r, column]),
        chain=c.astype(np.int64),
        temperatures=temps,
        updates_between=updates_between,
        L=L,
        field=field,
        algorithm=algorithm,
    )


def split_by_chain(data, n_test_chains):
    """Return the row indices of training and held-out samples, split by chain.

    At every temperature the `n_test_chains` chains with the largest indices
    are held out.  Samples of one chain are correlated, but different
    chains are independent, so the held-out rows are independent of the
    training rows.

    Parameters
    ----------
    data : IsingSamples
    n_test_chains : int
        Chains held out per temperature, at least 1 and fewer than the
        chains of every temperature.

    Returns
    -------
    train_rows, test_rows : ndarray of int64
        Sorted row indices into the arrays of `data`.

    Raises
    ------
    ValueError
        If a temperature has no more than `n_test_chains` chains.
    """
    if not isinstance(data, IsingSamples):
        raise TypeError(f"data must be IsingSamples, got {type(data).__name__}")
    n_test_chains = _check_count("n_test_chains", n_test_chains, 1)
    test = np.zeros(data.chain.size, dtype=bool)
    for k in np.unique(data.temperature_index):
        rows = data.temperature_index == k
        chains = np.unique(data.chain[rows])
        if chains.size <= n_test_chains:
            raise ValueError(
                f"temperature {data.temperatures[k]:g} has {chains.size} "
                f"chain{'' if chains.size == 1 else 's'}, so "
                f"n_test_chains = {n_test_chains} leaves none for training; hold out "
                "fewer chains or simulate more")
        test |= rows & np.isin(data.chain, chains[-n_test_chains:])
    return np.flatnonzero(~test), np.flatnonzero(test)


def exact_energy_per_spin(T):
    """Return Onsager's energy per spin of the infinite lattice at h = 0.

    u(T) = -J coth(2 beta J) [1 + (2 / pi) (2 tanh^2(2 beta J) - 1) K(k^2)],
    with k = 2 sinh(2 beta J) / cosh^2(2 beta J) and K the complete elliptic
    integral of the first kind, ``scipy.special.ellipk`` (which takes the
    parameter m = k^2).  At T_CRITICAL, K diverges while its factor is 0, and
    u = -sqrt(2).

    Parameters
    ----------
    T : float or array_like
        Temperatures, finite and > 0.

    Returns
    -------
    float or ndarray
        Energy per spin in units of J, with the shape of `T`.
    """
    T = _check_temperatures(T, "T")
    x = 2.0 / T
    with np.errstate(over="ignore"):
        # tanh(x) / cosh(x) is sinh(x) / cosh^2(x) without overflow of sinh.
        k = 2.0 * np.tanh(x) / np.cosh(x)
    m = np.minimum(k * k, 1.0)
    factor = 2.0 * np.tanh(x) ** 2 - 1.0
    with np.errstate(invalid="ignore"):
        elliptic_term = np.where(m < 1.0, factor * ellipk(m), 0.0)
    u = -(1.0 + (2.0 / np.pi) * elliptic_term) / np.tanh(x)
    return float(u) if u.ndim == 0 else u


def exact_magnetisation(T):
    """Return the spontaneous magnetisation per spin of the infinite lattice.

    M(T) = (1 - sinh(2 beta J)^-4)^(1/8) below T_CRITICAL and 0 at and above
    it, for h = 0.

    Parameters
    ----------
    T : float or array_like
        Temperatures, finite and > 0.

    Returns
    -------
    float or ndarray
        Magnetisation per spin, with the shape of `T`.
    """
    T = _check_temperatures(T, "T")
    with np.errstate(over="ignore"):
        inverse_sinh4 = np.sinh(2.0 / T) ** -4.0
    below = T < T_CRITICAL
    m = np.where(below, np.maximum(1.0 - inverse_sinh4, 0.0), 0.0) ** 0.125
    return float(m) if m.ndim == 0 else m


def save_ising(path, data):
    """Write Ising samples to a compressed NumPy ``.npz`` file at `path`.

    The file name is used as given (numpy adds no ``.npz`` suffix here).
    Spins are stored as int8, which is exact for -1/+1 and a quarter of the
    size of float32.  `data` is checked with the rules of :func:`load_ising`
    before anything is written.  The file is written under a temporary name
    in the same folder and then renamed to `path`, so an interrupted save
    leaves any earlier file at `path` as it was.

    Parameters
    ----------
    path : str or os.PathLike
    data : IsingSamples

    Raises
    ------
    TypeError
        If `data` is not IsingSamples.
    ValueError
        If `data` would give a file that :func:`load_ising` rejects.
    """
    if not isinstance(data, IsingSamples):
        raise TypeError(f"data must be IsingSamples, got {type(data).__name__}")
    path = Path(path)
    contents = {name: np.asarray(getattr(data, name))
                for name in _FILE_ARRAYS + ("L", "field", "algorithm")}
    contents["format_version"] = np.asarray(_FILE_FORMAT)
    checked = _samples_from_contents(f"IsingSamples to save to {path}", contents)
    arrays = {name: getattr(checked, name) for name in _FILE_ARRAYS}
    arrays["spins"] = checked.spins.astype(np.int8)

    def write(file):
        np.savez_compressed(
            file, **arrays, L=np.int64(checked.L), field=np.float64(checked.field),
            algorithm=np.str_(checked.algorithm),
            format_version=np.int64(_FILE_FORMAT))

    _write_atomically(path, write)


def _write_atomically(path, write):
    """Call ``write(file)`` on a new file next to `path`, then rename it to `path`.

    The new file is in the same folder, so os.replace renames it within one
    file system, which POSIX makes atomic.  On any error, the new file is
    removed and the old file at `path` is kept.

    NOTE: a symbolic link at `path` is replaced by the new file rather than
    written through, and the old file's permissions are not copied.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name for the Ising "
                                "samples")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} of {path} does not exist; "
                                "create it first")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(temporary, "xb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load_ising(path):
    """Read Ising samples written by :func:`save_ising`.

    The file is read with ``allow_pickle=False``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    IsingSamples

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is not a readable ``.npz`` file, lacks an array, has an
        unknown format version, has an array of the wrong type or with
        invalid values, or its arrays do not fit together.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the .npz file written by "
                         "save_ising")
    if not path.is_file():
        raise FileNotFoundError(f"Ising data file {path} not found")
    # np.load reads any file that is neither ZIP nor .npy as a pickle, so a
    # wrong file would otherwise be reported as pickled data.
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a readable .npz file: not a ZIP archive")
    names = _FILE_ARRAYS + _FILE_SCALARS
    try:
        with np.load(path, allow_pickle=False) as f:
            contents = {k: f[k] for k in names if k in f.files}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz file: {error}") from None
    except ValueError as error:
        # raised by numpy for object arrays, which need pickle
        raise ValueError(f"{path} cannot be read without pickle: {error}") from None
    missing = [k for k in names if k not in contents]
    if missing:
        raise ValueError(f"{path} is not an Ising samples file: missing arrays "
                         f"{missing}")
    return _samples_from_contents(path, contents)


def _samples_from_contents(where, contents):
    """Check the arrays of an Ising samples file and return them as IsingSamples.

    `contents` maps every name of _FILE_ARRAYS and _FILE_SCALARS to an
    ndarray.  Errors start with `where`, the file or the data being saved.
    """
    for name in _FILE_SCALARS:
        if contents[name].ndim != 0:
            raise ValueError(f"{where}: {name!r} must be a single value, got an "
                             f"array of shape {contents[name].shape}")
    version = contents["format_version"]
    if not _is_integer_scalar(version):
        raise ValueError(f"{where}: 'format_version' must be an integer, got "
                         f"{version.item()!r}; this version of rbmfast reads format "
                         f"{_FILE_FORMAT}")
    version = int(version)
    if version != _FILE_FORMAT:
        raise ValueError(f"{where}: 'format_version' is {version}, but this version "
                         f"of rbmfast reads only Ising file format {_FILE_FORMAT}")
    L, field, algorithm = _check_file_settings(where, contents)
    spins = _check_file_spins(where, contents["spins"], L)
    n = spins.shape[0]
    for name in ("temperature_index", "temperature", "energy",
                 "abs_magnetisation", "chain"):
        if contents[name].shape != (n,):
            raise ValueError(f"{where}: {name!r} has shape {contents[name].shape}, "
                             f"expected ({n},)")
    temperatures = _check_file_temperatures(where, contents["temperatures"])
    index = _check_temperature_index(where, contents["temperature_index"],
                                     temperatures)
    updates_between = _check_updates_between(where, contents["updates_between"],
                                             temperatures.size)
    per_sample = _real_array(where, "temperature", contents["temperature"])
    mismatch = ~np.isclose(per_sample, temperatures[index], rtol=1e-12, atol=0)
    if mismatch.any():
        row = int(np.flatnonzero(mismatch)[0])
        raise ValueError(f"{where}: sample {row} has temperature {per_sample[row]} "
                         f"but temperature_index {index[row]}, which is "
                         f"{temperatures[index[row]]}")
    chain = _integer_array(where, "chain", contents["chain"])
    if chain.min() < 0:
        raise ValueError(f"{where}: chain numbers must be >= 0, got {chain.min()}")
    return IsingSamples(
        spins=spins,
        temperature_index=index,
        temperature=per_sample,
        energy=_real_array(where, "energy", contents["energy"]),
        abs_magnetisation=_real_array(where, "abs_magnetisation",
                                      contents["abs_magnetisation"]),
        chain=chain,
        temperatures=temperatures,
        updates_between=updates_between,
        L=L,
        field=field,
        algorithm=algorithm,
    )


def _check_file_settings(where, contents):
    """Return the file's L, field and algorithm after checking them."""
    L = contents["L"]
    if not (_is_integer_scalar(L) and 2 <= L <= _ising.MAX_L):
        raise ValueError(f"{where}: 'L' must be an integer in [2, {_ising.MAX_L}], "
                         f"the lattice side, got {L.item()!r}; set it to the square "
                         "root of the number of columns of 'spins'")
    L = int(L)
    field = contents["field"]
    if field.dtype.kind not in "iuf" or not np.isfinite(field):
        raise ValueError(f"{where}: 'field' must be a finite real number, the "
                         f"external field h, got {field.item()!r}")
    field = float(field)
    algorithm = str(contents["algorithm"])
    if algorithm not in ALGORITHMS:
        raise ValueError(f"{where}: algorithm must be 'wolff' or 'metropolis', got "
                         f"{algorithm!r}")
    if algorithm == "wolff" and field != 0.0:
        raise ValueError(f"{where}: 'field' is {field}, but the Wolff algorithm "
                         "simulates only field 0; samples at a nonzero field need "
                         "algorithm 'metropolis'")
    return L, field, algorithm


def _check_file_spins(where, spins, L):
    """Return the file's spins as float32 after checking that they are -1 or +1."""
    if spins.dtype.kind not in "iuf":
        raise ValueError(f"{where}: 'spins' must be an integer or float array of -1 "
                         f"and +1, got dtype {spins.dtype}")
    if spins.ndim != 2 or spins.shape[1] != L * L:
        raise ValueError(f"{where}: 'spins' must have shape (n, {L * L}) for L = {L}, "
                         f"got {spins.shape}")
    if spins.shape[0] == 0:
        raise ValueError(f"{where} contains no samples")
    bad = (spins != 1) & (spins != -1)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(f"{where}: 'spins' must be -1 or +1, got {spins[row, column]} "
                         f"at row {row}, column {column}")
    return spins.astype(np.float32, copy=False)


def _check_file_temperatures(where, temperatures):
    """Return the file's temperatures as float64 after checking them."""
    temperatures = _real_array(where, "temperatures", temperatures, finite=False)
    if temperatures.ndim != 1 or temperatures.size == 0:
        raise ValueError(f"{where}: 'temperatures' must be a non-empty 1-D array, got "
                         f"shape {temperatures.shape}")
    check_temperature_values(temperatures, f"{where}: 'temperatures'")
    check_distinct_temperatures(temperatures.tolist(), f"{where}: temperatures")
    return temperatures


def _check_updates_between(where, values, n_temperatures):
    """Return the file's updates_between as int64 after checking them."""
    values = _integer_array(where, "updates_between", values)
    if values.shape != (n_temperatures,):
        raise ValueError(f"{where}: 'updates_between' has shape {values.shape}, "
                         f"expected ({n_temperatures},), one entry per temperature")
    bad = np.flatnonzero(values < 1)
    if bad.size:
        raise ValueError(f"{where}: 'updates_between' must be >= 1, because a chain "
                         f"runs at least one update between saved samples, got "
                         f"{values[bad[0]]} at index {int(bad[0])}")
    return values


def _check_temperature_index(where, values, temperatures):
    """Return temperature_index as int64 after checking that it fits `temperatures`."""
    index = _integer_array(where, "temperature_index", values)
    if index.min() < 0 or index.max() >= temperatures.size:
        raise ValueError(f"{where}: temperature_index must be in [0, "
                         f"{temperatures.size}), got values from {index.min()} to "
                         f"{index.max()}")
    counts = np.bincount(index, minlength=temperatures.size)
    if np.any(counts == 0):
        empty = temperatures[counts == 0].tolist()
        raise ValueError(f"{where}: temperatures {empty} have no samples; every "
                         "entry of 'temperatures' needs samples")
    return index


def check_distinct_temperatures(values, where, error=ValueError):
    """Raise `error` naming `where` if a temperature appears twice in `values`."""
    seen = set()
    for value in values:
        if value in seen:
            raise error(f"{where} lists T = {value:g} twice; each temperature is "
                        "one label class, so give each once")
        seen.add(value)


def _real_array(where, name, values, finite=True):
    """Return `values` as float64; raise ValueError unless they are real numbers.

    Booleans, complex numbers and strings are rejected, and with `finite`
    so are nan and infinities.
    """
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        raise ValueError(f"{where}: {name!r} must contain real numbers, got dtype "
                         f"{values.dtype}")
    values = values.astype(np.float64, copy=False)
    if finite:
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"{where}: {name!r} must be finite, got "
                             f"{values.reshape(-1)[bad[0]]} at index {int(bad[0])}")
    return values


def _non_integers(values):
    """Return a mask of the entries of a numeric array that are not int64 values."""
    if values.dtype.kind == "i":
        return np.zeros(values.shape, dtype=bool)
    if values.dtype.kind == "u":
        return values > np.iinfo(np.int64).max
    # int64 represents the integers in [-2^63, 2^63).
    with np.errstate(invalid="ignore"):
        outside = (values < -2.0**63) | (values >= 2.0**63)
        return ~np.isfinite(values) | (values != np.round(values)) | outside


def _integer_array(where, name, values):
    """Return `values` as int64; raise ValueError for values that are not integers."""
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        raise ValueError(f"{where}: {name!r} must contain integers, got dtype "
                         f"{values.dtype}")
    bad = np.flatnonzero(_non_integers(values))
    if bad.size:
        raise ValueError(f"{where}: {name!r} must contain integers, got "
                         f"{values.reshape(-1)[bad[0]]} at index {int(bad[0])}")
    return values.astype(np.int64)


def _is_integer_scalar(value):
    """Return whether the 0-d array `value` is an integer of integer dtype or a
    float with an integral value."""
    return value.dtype.kind in "iuf" and not _non_integers(value)
