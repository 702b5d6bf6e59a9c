"""Time the 2D Ising kernels against a vectorised numpy Metropolis.

For one lattice side L, temperature T and batch of chains, the script
prints spin updates per second, side by side, for:

- rbmfast Metropolis: checkerboard sweeps (rbmfast._kernels._ising), with
  1 and 2 OpenMP threads. One update is one attempted single-spin move.
- rbmfast Wolff: cluster moves, with 1 and 2 threads. One update is one
  flipped spin, so a Wolff "update" does the work of at least one
  attempted Metropolis move plus its bond tests.
- numpy Metropolis: the same checkerboard sweep on the whole batch with
  np.roll neighbour sums and numpy's default Generator; numpy runs it on
  one thread.

Each rate is the median over the repetitions, with the fastest repetition
next to it.  ``other`` is the median CPU load of other processes during the
timed calls, in cores (`bench_pcd.OtherLoad`), because on a shared machine
the 2-thread rows are only valid when it is near 0. Run from the repository root:
``python bench/bench_ising.py [--L 64] [--T 2.269] [--chains 16]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from bench_pcd import OtherLoad
from rbmfast._kernels import _ising

KEY = (2024, 12)


def numpy_metropolis(spins, beta, n_sweeps, rng):
    """Run checkerboard Metropolis sweeps on spins (n_chains, L, L) in place
    (acceptance min(1, exp(-beta dE)), h = 0)."""
    L = spins.shape[1]
    i, j = np.indices((L, L))
    colours = [((i + j) % 2) == c for c in (0, 1)]
    for _ in range(n_sweeps):
        for colour in colours:
            neighbours = (np.roll(spins, 1, axis=1) + np.roll(spins, -1, axis=1)
                          + np.roll(spins, 1, axis=2) + np.roll(spins, -1, axis=2))
            delta = 2.0 * spins * neighbours
            accept = rng.random(spins.shape) < np.exp(-beta * delta)
            spins[:, colour] = np.where(accept[:, colour], -spins[:, colour],
                                        spins[:, colour])


def start_lattices(n_chains, L, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1, 1], dtype=np.int8), (n_chains, L, L))


def time_call(repeats, function, *args, **kwargs):
    """Time `repeats` calls of function(*args, **kwargs).

    Returns the median and the minimum seconds, the median load of other
    processes in cores (None where it cannot be read) and the last result.
    """
    times, loads, result = [], [], None
    for _ in range(repeats):
        with OtherLoad() as load:
            start = time.perf_counter()
            result = function(*args, **kwargs)
            times.append(time.perf_counter() - start)
        if load.cores is not None:
            loads.append(load.cores)
    other = statistics.median(loads) if loads else None
    return statistics.median(times), min(times), other, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, default=64, help="lattice side")
    parser.add_argument("--T", type=float, default=2.269,
                        help="temperature in units of J")
    parser.add_argument("--chains", type=int, default=16, help="chains in the batch")
    parser.add_argument("--sweeps", type=int, default=50,
                        help="Metropolis sweeps per timed rbmfast call")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions")
    args = parser.parse_args()
    beta = 1.0 / args.T
    n_sites = args.L * args.L
    print(f"L = {args.L}, T = {args.T}, {args.chains} chains, "
          f"load average {os.getloadavg()[0]:.2f}")

    rows = []
    spins = start_lattices(args.chains, args.L)
    # settle the lattices, so the timings are of equilibrium states
    _ising.metropolis(spins, beta, 0.0, 200, KEY, 0)
    call = 10**6
    for n_threads in (1, 2):
        seconds, fastest, other, _ = time_call(args.repeats, _ising.metropolis, spins,
                                               beta, 0.0, args.sweeps, KEY, call,
                                               n_threads=n_threads)
        updates = args.chains * n_sites * args.sweeps
        rows.append(("rbmfast Metropolis", n_threads, updates / seconds,
                     updates / fastest, other))

    # Enough clusters for about `sweeps` lattices' worth of flips.
    _, flipped = _ising.wolff(spins, beta, 100, KEY, 0)
    mean_cluster = max(flipped.sum() / (100 * args.chains), 1.0)
    n_clusters = int(np.ceil(args.sweeps * n_sites / mean_cluster))
    for n_threads in (1, 2):
        seconds, fastest, other, (_, flipped) = time_call(
            args.repeats, _ising.wolff, spins, beta, n_clusters, KEY, call,
            n_threads=n_threads)
        rows.append(("rbmfast Wolff (flips)", n_threads, flipped.sum() / seconds,
                     flipped.sum() / fastest, other))

    numpy_spins = spins.astype(np.float64)
    rng = np.random.default_rng(1)
    numpy_sweeps = max(1, args.sweeps // 10)
    seconds, fastest, other, _ = time_call(args.repeats, numpy_metropolis,
                                           numpy_spins, beta, numpy_sweeps, rng)
    numpy_updates = args.chains * n_sites * numpy_sweeps
    numpy_rate = numpy_updates / seconds
    rows.append(("numpy Metropolis", 1, numpy_rate, numpy_updates / fastest, other))

    print(f"{'implementation':24s} {'threads':>7s} {'M updates/s':>12s} "
          f"{'best':>7s} {'/numpy':>8s} {'other':>6s}")
    for name, n_threads, rate, best, other in rows:
        load = "n/a" if other is None else f"{other:.2f}"
        print(f"{name:24s} {n_threads:7d} {rate / 1e6:12.1f} {best / 1e6:7.1f} "
              f"{rate / numpy_rate:8.1f} {load:>6s}")
    print(f"Wolff mean cluster size {mean_cluster:.1f} sites, {n_clusters} clusters "
          f"per call; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
