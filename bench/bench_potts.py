"""Time one PCD-k update of a Potts-Binary RBM in rbmfast against numpy, torch
and the bare operations.

The model has L visible Potts sites with q = 21 states (20 amino acids and
the gap), M Binary hidden units and weights of shape (L, q, M), in float32,
with as many persistent chains as rows in a minibatch. The cases are:

    L200-k1    L = 200, M = 100, B = 256, k = 1
    L200-k10   L = 200, M = 100, B = 256, k = 10
    L60-k10    L = 60,  M = 50,  B = 512, k = 10

For each case and thread count the script times, side by side:

- bare: the k + 2 gathers, k products and 2 scatter-adds of one update
  alone, with no sampling (reference_potts.BarePotts);
- numpy and torch: the whole update on one-hot encoded states, with Adam
  (reference_potts.NumpyPotts and TorchPotts);
- rbmfast: `time_rbmfast`, which needs the Potts layer
  (rbmfast.layers.Potts). Until that exists the script prints a message
  and leaves rbmfast out.

The data are random sequences in which each site follows its own
Dirichlet(0.5) profile over the 21 states, so sites are conserved to
different degrees, as in an alignment. numpy gets the thread count through
threadpoolctl, torch through torch.set_num_threads and rbmfast through
TrainConfig.n_threads. Each repetition runs every implementation once, in an
order that rotates between repetitions, and the table reports medians.

Run from the repository root: ``python bench/bench_potts.py [--quick]``.
"""
# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench_pcd reads the thread environment variables when it is imported, so
# it comes before every import that could set them (see THREAD_ENV there).
import bench_pcd as pcd

import argparse
import datetime
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np
from threadpoolctl import threadpool_limits

import rbmfast.layers
from rbmfast.config import TrainConfig

import reference_potts as ref

N_STATES = 21
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SKIPPABLE = ("numpy", "torch", "rbmfast")


@dataclass(frozen=True)
class Case:
    """Sizes of one benchmark case."""

    name: str
    n_sites: int
    n_hidden: int
    batch_size: int
    k: int
    n_states: int = N_STATES


CASES = {
    case.name: case
    for case in (
        Case("L200-k1", n_sites=200, n_hidden=100, batch_size=256, k=1),
        Case("L200-k10", n_sites=200, n_hidden=100, batch_size=256, k=10),
        Case("L60-k10", n_sites=60, n_hidden=50, batch_size=512, k=10),
    )
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time one PCD-k update of a Potts-Binary RBM (q = 21, float32) "
                    "in rbmfast against the bare operations, numpy and torch.")
    parser.add_argument("--threads", type=pcd.parse_int_list, default=[1, 2],
                        help="comma-separated thread counts (default: 1,2)")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated cases (default: all of "
                             f"{', '.join(CASES)})")
    parser.add_argument("--reps", type=int, default=None,
                        help="timed repetitions per cell "
                             "(default: 5, or 2 with --quick)")
    parser.add_argument("--updates", type=int, default=None,
                        help="updates (minibatches) per timed block "
                             "(default: 10, or 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="2 repetitions of 3 updates, for a smoke run")
    parser.add_argument("--skip", default="",
                        help="comma-separated implementations to leave out, "
                             f"from: {', '.join(SKIPPABLE)}")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file to write (default: "
                             "bench/results/potts-<date>.json)")

    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 2 if args.quick else 5
    if args.updates is None:
        args.updates = 3 if args.quick else 10
    if args.reps < 1 or args.updates < 2:
        parser.error(f"--reps must be >= 1 and --updates >= 2, got "
                     f"{args.reps} and {args.updates}")
    names = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = [name for name in names if name not in CASES]
    if not names or unknown:
        parser.error(f"invalid --cases {args.cases!r}; choose from "
                     f"{', '.join(CASES)}")
    args.cases = [CASES[name] for name in names]
    args.skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = args.skip - set(SKIPPABLE)
    if unknown:
        parser.error(f"invalid --skip names {sorted(unknown)}; choose from "
                     f"{', '.join(SKIPPABLE)}")
    return args


def make_data(case, n_rows, seed=0):
    """Draw (n_rows, L) uint8 sequences, each site from its own profile."""
    rng = np.random.default_rng(seed)
    profiles = rng.dirichlet(np.full(case.n_states, 0.5), size=case.n_sites)
    cdf = np.cumsum(profiles, axis=1)
    uniforms = rng.random((n_rows, case.n_sites, 1))
    states = (cdf[None, :, :] < uniforms).sum(axis=2)
    return np.minimum(states, case.n_states - 1).astype(np.uint8)


def initial_parameters(case, data, seed=0):
    """Return W ~ N(0, 0.01^2), the data's log frequencies as visible fields
    and zero hidden fields, shared by the numpy and torch references."""
    rng = np.random.default_rng(seed)
    weights = 0.01 * rng.standard_normal((case.n_sites, case.n_states, case.n_hidden))
    counts = np.stack([np.bincount(column, minlength=case.n_states)
                       for column in data.T])
    theta_v = np.log((counts + 1.0) / (len(data) + case.n_states))
    return weights, theta_v, np.zeros(case.n_hidden)


# --------------------------------------------------------------------------------------
# rbmfast
# --------------------------------------------------------------------------------------


def has_potts_layer():
    return hasattr(rbmfast.layers, "Potts")


def time_rbmfast(data, case, n_threads):
    """Return rbmfast's seconds per PCD-k update over one epoch of `data`.

    `data` is (n_rows, L) uint8 with n_rows a multiple of ``case.batch_size``.
    The timed call is rbmfast.training.fit, so the time includes its setup,
    as in bench_pcd.py.
    """
    from rbmfast.layers import Binary, Potts
    from rbmfast.rbm import RBM
    from rbmfast.training import fit

    rng = np.random.default_rng(0)
    weights = 0.01 * rng.standard_normal((case.n_sites, case.n_states, case.n_hidden))
    rbm = RBM(Potts(case.n_sites, case.n_states), Binary(case.n_hidden),
              weights.astype(np.float32))
    config = TrainConfig(n_hidden=case.n_hidden, visible="potts",
                         n_states=case.n_states, hidden="binary",
                         dtype="float32", method="pcd", n_gibbs=case.k, n_epochs=1,
                         batch_size=case.batch_size, seed=0, n_threads=n_threads)
    n_updates = len(data) // case.batch_size
    start = time.perf_counter()
    fit(rbm, data, config)
    return (time.perf_counter() - start) / n_updates


class RbmfastRunner:
    """Times `time_rbmfast` over one pass of the data."""

    name = "rbmfast"

    def __init__(self, data, case):
        self.data, self.case = data, case

    def warm_up(self, n_threads):
        """Run an untimed fit of two updates."""
        time_rbmfast(self.data[:2 * self.case.batch_size], self.case, n_threads)

    def run(self, n_threads):
        """Return seconds per update."""
        return time_rbmfast(self.data, self.case, n_threads)


# --------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------


class ReferenceRunner:
    """Times a reference's update() over one pass of the data, in a new random
    minibatch order per pass."""

    def __init__(self, name, impl, data, batch_size, threads_api):
        self.name, self.impl = name, impl
        self.data, self.batch_size = data, batch_size
        self.rng = np.random.default_rng(0)
        self.threads_api = threads_api

    def _batches(self):
        order = self.rng.permutation(len(self.data))
        return [np.ascontiguousarray(self.data[order[start:start + self.batch_size]])
                for start in range(0, len(order), self.batch_size)]

    def _limit(self, n_threads):
        if self.threads_api == "torch":
            import torch

            torch.set_num_threads(n_threads)
        return threadpool_limits(limits=n_threads, user_api="blas")

    def warm_up(self, n_threads):
        """Run two untimed updates, so that the timed ones find warm caches."""
        with self._limit(n_threads):
            for x in self._batches()[:2]:
                self.impl.update(x)

    def run(self, n_threads):
        """Return seconds per update over one pass of the data."""
        batches = self._batches()
        with self._limit(n_threads):
            start = time.perf_counter()
            for x in batches:
                self.impl.update(x)
            elapsed = time.perf_counter() - start
        return elapsed / len(batches)


def build_runners(case, data, skip):
    """Return the runners of one (case, threads) cell, bare first."""
    params = initial_parameters(case, data)
    B = case.batch_size
    runners = [ReferenceRunner(
        "bare", ref.BarePotts(case.n_sites, case.n_states, case.n_hidden, B, case.k),
        data, B, "blas")]
    if "numpy" not in skip:
        runners.append(ReferenceRunner(
            "numpy one-hot", ref.NumpyPotts(*params, B, case.k), data, B, "blas"))
    if "torch" not in skip and pcd._installed("torch"):
        runners.append(ReferenceRunner(
            "torch one-hot", ref.TorchPotts(*params, B, case.k), data, B, "torch"))
    if "rbmfast" not in skip and has_potts_layer():
        runners.append(RbmfastRunner(data, case))
    return runners


# --------------------------------------------------------------------------------------
# Timing and the table
# --------------------------------------------------------------------------------------


def run_benchmark(args):
    """Time every cell.

    Returns {(case name, threads): {name: [(seconds, other_cores), ...]}}, one
    tuple per repetition: seconds per update and the other processes' load
    (see bench_pcd.OtherLoad).
    """
    cells = {}
    for case in args.cases:
        data = make_data(case, case.batch_size * args.updates)
        for n_threads in args.threads:
            runners = build_runners(case, data, args.skip)
            for runner in runners:
                runner.warm_up(n_threads)
            cells[(case.name, n_threads)] = (runners,
                                             {runner.name: [] for runner in runners})
    for rep in range(args.reps):
        for (_, n_threads), (runners, times) in cells.items():
            shift = rep % len(runners)
            for runner in runners[shift:] + runners[:shift]:
                time.sleep(pcd.PAUSE_S)
                with pcd.OtherLoad() as load:
                    seconds = runner.run(n_threads)
                times[runner.name].append((seconds, load.cores))
        print(f"repetition {rep + 1}/{args.reps} done, load average "
              f"{os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    return {cell: times for cell, (_, times) in cells.items()}


def summarise(raw):
    """Return the table rows: medians in ms and the ratios."""
    rows = []
    for (case_name, n_threads), times in raw.items():
        medians = {name: statistics.median(sample[0] for sample in samples)
                   for name, samples in times.items()}
        bare = medians["bare"]
        ours = medians.get("rbmfast")
        for name, samples in times.items():
            seconds = [sample[0] for sample in samples]
            loads = [sample[1] for sample in samples if sample[1] is not None]
            median = medians[name]
            rows.append({
                "implementation": name, "case": case_name, "threads": n_threads,
                "ms_per_update": 1e3 * median,
                "min_ms_per_update": 1e3 * min(seconds),
                "ratio_to_bare": median / bare,
                "rbmfast_over_this": None if ours is None else ours / median,
                "spread": (max(seconds) - min(seconds)) / median,
                "other_cores": statistics.median(loads) if loads else None,
                "samples_ms": [1e3 * s for s in seconds],
            })
    return rows


def print_table(rows):
    header = (f"{'case':<9} {'thr':>3} {'implementation':<14} {'ms/update':>10} "
              f"{'/bare':>6} {'rbmfast/this':>12} {'min ms':>8} {'spread':>7} "
              f"{'other':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row["rbmfast_over_this"]
        ratio_text = "n/a" if ratio is None else f"{ratio:.2f}"
        load = row["other_cores"]
        load_text = "n/a" if load is None else f"{load:.2f}"
        print(f"{row['case']:<9} {row['threads']:>3} {row['implementation']:<14} "
              f"{row['ms_per_update']:>10.2f} {row['ratio_to_bare']:>6.2f} "
              f"{ratio_text:>12} {row['min_ms_per_update']:>8.2f} "
              f"{100 * row['spread']:>6.0f}% {load_text:>6}")
    print("/bare: median over the bare operations' median in the same cell; "
          "rbmfast/this: below 1, rbmfast is faster; spread: (max - min) / median; "
          "other: median CPU load of other processes during the timed blocks, in "
          "cores.")


def default_output():
    stamp = datetime.datetime.now()
    path = RESULTS_DIR / f"potts-{stamp:%Y-%m-%d}.json"
    if path.exists():
        path = RESULTS_DIR / f"potts-{stamp:%Y-%m-%d-%H%M%S}.json"
    return path


def main(argv=None):
    args = parse_args(argv)
    if "rbmfast" not in args.skip and not has_potts_layer():
        print("rbmfast.layers has no Potts layer yet, so the rbmfast column is left "
              "out; the references still run.", flush=True)

    # Import torch before describing the machine, so that threadpool_info
    # lists the BLAS and OpenMP libraries it loads.
    if "torch" not in args.skip and pcd._installed("torch"):
        import torch  # noqa: F401
    machine = pcd.describe_machine(pcd.THREAD_ENV)
    print(f"CPU: {machine['lscpu_model_name']}, {machine['cpu_count']} CPUs; "
          f"load average {machine['loadavg_start'][0]:.2f}; "
          f"BLAS/OpenMP env: {machine['env'] or 'none set'}", flush=True)

    start = time.perf_counter()
    raw = run_benchmark(args)
    machine["loadavg_end"] = os.getloadavg()
    rows = summarise(raw)
    print_table(rows)

    output = args.output or default_output()
    output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "settings": {"cases": [asdict(case) for case in args.cases],
                     "dtype": "float32", "reps": args.reps,
                     "updates_per_block": args.updates, "pause_s": pcd.PAUSE_S,
                     "rbmfast_potts": has_potts_layer()},
        "machine": machine,
        "wall_s": time.perf_counter() - start,
        "rows": rows,
    }
    output.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {output} ({result['wall_s']:.0f} s; load average now "
          f"{machine['loadavg_end'][0]:.2f})")


if __name__ == "__main__":
    main()
