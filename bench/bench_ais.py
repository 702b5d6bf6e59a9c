"""Time one AIS inverse-temperature step against one Gibbs sweep.

For each model shape, number of chains and thread count the script prints,
side by side:

- ``gibbs``: one block-Gibbs sweep v -> h -> v of the model on the chains
  (``RBM.gibbs_inplace``), the median over repetitions of 20 sweeps;
- ``ais step``: ``rbmfast.evaluation.partition.ais`` with the same number
  of chains, divided by its number of steps (inverse temperatures minus
  1).  A step builds the model at its inverse temperature, evaluates the
  free energy of the chains there before and after one sweep, and runs
  that sweep.  A free energy needs one product and a sweep two, so a step
  does the products of about two sweeps;
- the parts of a step, timed alone: ``build`` (the annealed RBM, Python
  and small arrays), ``free energy`` (one ``RBM.free_energy`` call).

Models have random weights and are float32.  Times are medians; ``other``
is the median CPU load of other processes during the timed AIS runs, in
cores (`bench_pcd.OtherLoad`).  Run from the repository root:
``python bench/bench_ais.py [--chains 256,1024] [--betas 200] [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from bench_pcd import OtherLoad
from rbmfast.evaluation import partition
from rbmfast.layers import Binary, Gaussian, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM

# (name, visible layer, hidden layer, n_visible, n_hidden)
SHAPES = [
    ("Ising 16x16, 64 spin hidden", Spin, Spin, 256, 64),
    ("MNIST-like 784 binary, 500 binary", Binary, Binary, 784, 500),
    ("784 binary, 400 Gaussian", Binary, Gaussian, 784, 400),
]


def make_rbm(visible, hidden, n_visible, n_hidden, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.5 / np.sqrt(n_visible), (n_visible, n_hidden))
    return RBM(visible(n_visible, dtype=np.float32,
                       theta=rng.normal(0, 0.1, n_visible)),
               hidden(n_hidden, dtype=np.float32), weights)


def median_seconds(repeats, function, loads=None):
    """Return the median seconds of `repeats` calls; append other load to `loads`."""
    times = []
    for _ in range(repeats):
        with OtherLoad() as load:
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        if loads is not None and load.cores is not None:
            loads.append(load.cores)
    return statistics.median(times)


def time_shape(rbm, n_chains, n_betas, repeats, n_threads):
    stream = Stream.from_seed(0, 9)
    v = rbm.sample_independent_visible(n_chains, stream, n_threads)
    h = np.zeros((n_chains, rbm.n_hidden), dtype=rbm.dtype)
    scratch = rbm.gibbs_scratch(n_chains)
    sweeps = 20

    def gibbs():
        rbm.gibbs_inplace(v, h, stream, sweeps, n_threads=n_threads, scratch=scratch)

    gibbs()
    sweep = median_seconds(repeats, gibbs) / sweeps

    def run_ais():
        partition.ais(rbm, n_chains=n_chains, n_betas=n_betas, seed=1,
                      n_threads=n_threads)

    loads = []
    step = median_seconds(max(1, repeats // 2), run_ais, loads) / (n_betas - 1)

    base = partition._base_layer(rbm, None, None)
    build = median_seconds(repeats, lambda: [partition._annealed_rbm(rbm, base, 0.5)
                                             for _ in range(20)]) / 20
    free = median_seconds(repeats, lambda: rbm.free_energy(v, n_threads))
    other = statistics.median(loads) if loads else float("nan")
    return sweep, step, build, free, other


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", default="256,1024",
                        help="comma-separated numbers of chains")
    parser.add_argument("--betas", type=int, default=200,
                        help="inverse temperatures of the timed AIS runs")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions")
    args = parser.parse_args()
    chain_counts = [int(c) for c in args.chains.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(f"{args.betas} inverse temperatures per AIS run, float32, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'model':36s} {'chains':>6s} {'thr':>3s} {'gibbs ms':>9s} "
          f"{'ais step ms':>11s} {'ratio':>6s} {'build ms':>9s} {'F(v) ms':>8s} "
          f"{'other':>6s}")
    for name, visible, hidden, n_visible, n_hidden in SHAPES:
        rbm = make_rbm(visible, hidden, n_visible, n_hidden)
        for n_chains in chain_counts:
            for n_threads in thread_counts:
                sweep, step, build, free, other = time_shape(
                    rbm, n_chains, args.betas, args.repeats, n_threads)
                print(f"{name:36s} {n_chains:6d} {n_threads:3d} {sweep * 1e3:9.3f} "
                      f"{step * 1e3:11.3f} {step / sweep:6.2f} {build * 1e3:9.3f} "
                      f"{free * 1e3:8.3f} {other:6.2f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
