"""Time one PCD-k update of rbmfast against bare BLAS products, numpy and others.

The model is a Binary-Binary RBM with 784 visible and 500 hidden units,
float32, trained on random binary rows of density 0.13 (about that of
MNIST) in minibatches of 256, with as many persistent chains as rows in a
minibatch. For each k and thread count the script times, side by side:

- bare GEMMs: the 2k + 4 products of size 256 x 784 x 500 that one update
  needs, alone, with numpy and with scipy.linalg.blas (the OpenBLAS build
  that the rbmfast kernels call);
- numpy and torch: the same PCD-k update written plainly (reference_pcd.py);
- sklearn: BernoulliRBM.partial_fit, a PCD-1 update with SGD in float64,
  so it is timed for k = 1 only;
- rbmfast: rbmfast.training.fit over one epoch (20 minibatches by default),
  divided by the number of updates. The timed fit includes its setup (data
  validation, buffers, new chains), which is also reported on its own.

numpy, scipy and scikit-learn get the thread count through threadpoolctl,
torch through torch.set_num_threads and rbmfast through
TrainConfig.n_threads. Each repetition runs every implementation once, in an
order that rotates between repetitions, and the table reports medians.

Run from the repository root: ``python bench/bench_pcd.py [--quick]``.
"""
# ruff: noqa: E402
from __future__ import annotations

import os

# Read before the imports below, because importing threadpoolctl (3.8) sets
# KMP_DUPLICATE_LIB_OK and importing scikit-learn (1.9) also sets
# KMP_INIT_AT_FORK.
THREAD_ENV = {key: value for key, value in os.environ.items()
              if key.startswith(("OPENBLAS", "OMP_", "MKL_", "GOMP", "KMP_"))}

import argparse
import datetime
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import rbmfast
from rbmfast.config import TrainConfig
from rbmfast.optimizers import Adam
from rbmfast.random import Stream
from rbmfast.training import fit, init_rbm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_pcd as ref

N_VISIBLE = 784
N_HIDDEN = 500
BATCH_SIZE = 256
DENSITY = 0.13
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SKIPPABLE = ("numpy", "torch", "sklearn", "scipy-blas")

# Seconds to sleep between two timed blocks. OpenMP worker threads busy-wait
# after a parallel region before they sleep (libgomp: GOMP_SPINCOUNT), and so
# may the BLAS threads. On a machine with few cores, spinning threads of one
# implementation would slow down the next one.
PAUSE_S = 0.2


def parse_int_list(text):
    """Parse '1,2' into [1, 2], rejecting non-positive values."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid list {text!r}: expected comma-separated integers such as 1,2"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"invalid list {text!r}: expected positive integers such as 1,2"
        )
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time one PCD-k update of a 784 x 500 Binary-Binary RBM "
                    "(batch 256, float32) in rbmfast against bare BLAS products, "
                    "numpy, torch and scikit-learn.")
    parser.add_argument("--threads", type=parse_int_list, default=[1, 2],
                        help="comma-separated thread counts (default: 1,2)")
    parser.add_argument("--k", type=parse_int_list, default=[1, 10],
                        help="comma-separated Gibbs sweeps per update (default: 1,10)")
    parser.add_argument("--reps", type=int, default=None,
                        help="timed repetitions per cell "
                             "(default: 5, or 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="2 repetitions of 10 updates, for a smoke run")
    parser.add_argument("--updates", type=int, default=None,
                        help="updates (minibatches) per timed block "
                             "(default: 20, or 10 with --quick)")
    parser.add_argument("--skip", default="",
                        help="comma-separated implementations to leave out, "
                             f"from: {', '.join(SKIPPABLE)}")
    parser.add_argument("--diagnose", action="store_true",
                        help="also time, at 1 thread, the products in the kernels' "
                             "chunks and the sampling of one sweep")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file to write (default: "
                             "bench/results/pcd-<date>.json)")

    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 2 if args.quick else 5
    if args.updates is None:
        args.updates = 10 if args.quick else 20
    if args.reps < 1 or args.updates < 2:
        parser.error(f"--reps must be >= 1 and --updates >= 2, got "
                     f"{args.reps} and {args.updates}")
    args.skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = args.skip - set(SKIPPABLE)
    if unknown:
        parser.error(f"invalid --skip names {sorted(unknown)}; choose from "
                     f"{', '.join(SKIPPABLE)}")
    return args


def make_data(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n_rows, N_VISIBLE)) < DENSITY).astype(np.float32)


class MinibatchOrder:
    """Minibatches in a new random order per pass, copied out as fit does."""

    def __init__(self, data, seed=0):
        self.data = data
        self.rng = np.random.default_rng(seed)

    def batches(self):
        perm = self.rng.permutation(self.data.shape[0])
        for start in range(0, len(perm), BATCH_SIZE):
            yield np.ascontiguousarray(self.data[perm[start:start + BATCH_SIZE]])


class ReferenceRunner:
    """Times a reference's update() over one pass of the data."""

    def __init__(self, name, impl, data, threads_api):
        self.name, self.impl = name, impl
        self.order = MinibatchOrder(data)
        self.threads_api = threads_api

    def _limit(self, n_threads):
        if self.threads_api == "torch":
            import torch

            torch.set_num_threads(n_threads)
        return threadpool_limits(limits=n_threads, user_api="blas")

    def warm_up(self, n_threads):
        """Run two untimed updates, so that the timed ones find warm caches."""
        with self._limit(n_threads):
            for _, x in zip(range(2), self.order.batches()):
                self.impl.update(x)

    def run(self, n_threads):
        """Return seconds per update over one pass of the data."""
        batches = list(self.order.batches())
        with self._limit(n_threads):
            start = time.perf_counter()
            for x in batches:
                self.impl.update(x)
            elapsed = time.perf_counter() - start
        return elapsed / len(batches), {}


class RbmfastRunner:
    """Times rbmfast.training.fit over one epoch, plus parts of the update.

    Besides seconds per update, run() returns the steady per-update time from
    callback timestamps (updates 2 to n) and the setup time of the fit call.
    It also times, on their own, the k Gibbs sweeps on 256 chains
    (RBM.gibbs_inplace) and the Adam step (rbmfast.optimizers.Adam) on copies
    of the parameters.
    """

    name = "rbmfast"

    def __init__(self, data, k, n_threads):
        self.data, self.k = data, k
        self.config = TrainConfig(n_hidden=N_HIDDEN, visible="binary", hidden="binary",
                                  dtype="float32", method="pcd", n_gibbs=k,
                                  n_epochs=1, batch_size=BATCH_SIZE, seed=0,
                                  n_threads=n_threads)
        self.rbm = init_rbm(self.config, data)
        self.chains = (np.random.default_rng(1).random((BATCH_SIZE, N_VISIBLE))
                       < DENSITY).astype(np.float32)
        self.chain_h = np.empty((BATCH_SIZE, N_HIDDEN), np.float32)
        self.scratch = self.rbm.gibbs_scratch(BATCH_SIZE)
        self.stream = Stream.from_seed(0, 5)
        self.adam = Adam()
        self.grads = {"weights": np.zeros_like(self.rbm.weights),
                      "visible.theta": np.zeros_like(self.rbm.visible.theta),
                      "hidden.theta": np.zeros_like(self.rbm.hidden.theta)}
        # Adam gets copies, so that timing it leaves the trained RBM alone.
        self.adam_params = {"weights": self.rbm.weights.copy(),
                            "visible.theta": self.rbm.visible.theta.copy(),
                            "hidden.theta": self.rbm.hidden.theta.copy()}

    def _gibbs_seconds(self, n_steps, n_calls):
        n_threads = self.config.n_threads
        start = time.perf_counter()
        for _ in range(n_calls):
            self.rbm.gibbs_inplace(self.chains, self.chain_h, self.stream, n_steps,
                                   n_threads=n_threads, scratch=self.scratch)
        return (time.perf_counter() - start) / n_calls

    def _adam_seconds(self, n_calls):
        start = time.perf_counter()
        for _ in range(n_calls):
            self.adam.step(self.adam_params, self.grads, 1e-3,
                           n_threads=self.config.n_threads)
        return (time.perf_counter() - start) / n_calls

    def warm_up(self, n_threads):
        """Run an untimed fit of two updates, a short Gibbs run and an Adam step."""
        fit(self.rbm, self.data, self.config, stop_at_update=2)
        self._gibbs_seconds(min(self.k, 2), 1)
        self._adam_seconds(1)

    def run(self, n_threads):
        """Return seconds per update of fit and the parts, in seconds.

        The thread count is the one given to the constructor, in the config.
        """
        stamps = []

        def record(**_):
            stamps.append(time.perf_counter())

        start = time.perf_counter()
        fit(self.rbm, self.data, self.config, callback=record)
        elapsed = time.perf_counter() - start
        n_updates = len(stamps)
        steady = (stamps[-1] - stamps[0]) / (n_updates - 1)
        parts = {
            "steady_update": steady,
            "fit_setup": (stamps[0] - start) - steady,
            "gibbs_k_sweeps": self._gibbs_seconds(self.k, 2),
            "adam_step": self._adam_seconds(5),
        }
        return elapsed / n_updates, parts


def build_runners(data, k, n_threads, skip):
    """Return the runners of one (k, threads) cell, rbmfast last."""
    init = init_rbm(TrainConfig(n_hidden=N_HIDDEN, n_epochs=1, batch_size=BATCH_SIZE,
                                seed=0), data)
    params = (init.weights, init.visible.theta, init.hidden.theta)
    runners = [ReferenceRunner(
        "bare GEMMs (numpy)",
        ref.BareGemms(N_VISIBLE, N_HIDDEN, BATCH_SIZE, k), data, "blas")]
    if "scipy-blas" not in skip:
        runners.append(ReferenceRunner(
            "bare GEMMs (scipy BLAS)",
            ref.ScipyBlasGemms(N_VISIBLE, N_HIDDEN, BATCH_SIZE, k), data, "blas"))
    if "numpy" not in skip:
        runners.append(ReferenceRunner(
            "numpy", ref.NumpyPCD(*params, BATCH_SIZE, k), data, "blas"))
    if "torch" not in skip and _installed("torch"):
        runners.append(ReferenceRunner(
            "torch", ref.TorchPCD(*params, BATCH_SIZE, k), data, "torch"))
    if "sklearn" not in skip and k == 1 and _installed("sklearn"):
        runners.append(ReferenceRunner(
            "sklearn BernoulliRBM (PCD-1, SGD, float64)",
            ref.SklearnPCD1(N_HIDDEN, BATCH_SIZE), data, "blas"))
    runners.append(RbmfastRunner(data, k, n_threads))
    return runners


def _installed(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


class OtherLoad:
    """CPU time that other processes used while a block ran, in cores.

    The machine-wide busy time from /proc/stat minus this process's CPU time,
    divided by the wall time. A value near 0 means the block had the cores to
    itself. It is None where /proc/stat cannot be read (not Linux).
    """

    def __init__(self):
        self.tick_s = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else None

    @staticmethod
    def _busy_ticks():
        try:
            with open("/proc/stat") as stat:
                fields = [int(value) for value in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal ...: all but idle
        # and iowait count as busy; guest time is already inside user.
        return sum(fields[:3]) + sum(fields[5:8])

    def __enter__(self):
        self.busy0 = self._busy_ticks()
        self.cpu0 = time.process_time()
        self.wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall0
        own = time.process_time() - self.cpu0
        busy1 = self._busy_ticks()
        if self.busy0 is None or busy1 is None or self.tick_s is None:
            self.cores = None
        else:
            self.cores = max(0.0, ((busy1 - self.busy0) * self.tick_s - own) / wall)
        return False


def run_benchmark(args):
    """Time every cell.

    Returns {(k, threads): {name: [(seconds, parts, other_cores), ...]}}, one
    tuple per repetition: seconds per update, the parts of the update (empty
    except for rbmfast) and the other processes' load (see OtherLoad).
    """
    data = make_data(BATCH_SIZE * args.updates)
    cells = {}
    for n_threads in args.threads:
        for k in args.k:
            runners = build_runners(data, k, n_threads, args.skip)
            for runner in runners:
                runner.warm_up(n_threads)
            cells[(k, n_threads)] = (runners, {runner.name: [] for runner in runners})
    for rep in range(args.reps):
        for (k, n_threads), (runners, times) in cells.items():
            shift = rep % len(runners)
            for runner in runners[shift:] + runners[:shift]:
                time.sleep(PAUSE_S)
                with OtherLoad() as load:
                    seconds, parts = runner.run(n_threads)
                times[runner.name].append((seconds, parts, load.cores))
        print(f"repetition {rep + 1}/{args.reps} done, load average "
              f"{os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    return {cell: times for cell, (_, times) in cells.items()}


# Chunk sizes of the C kernels, copied from csrc/common.h: products with the
# batch on the rows run on RBM_ROW_CHUNK rows, and X^T H in the gradient on
# 2 * RBM_COLUMN_BLOCK visible units.
KERNEL_ROW_CHUNK = 64
KERNEL_XTH_CHUNK = 2 * 64


def _best_ms(function, n_calls=15):
    best = float("inf")
    for _ in range(n_calls):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return 1e3 * best


def run_diagnostics(data):
    """Time, at 1 thread, what the kernels do differently from one BLAS call.

    Returns a dict of fastest times in ms over 15 calls. The products run
    through scipy's BLAS, as in the kernels: the two products of a sweep as
    whole 256-row calls and in the kernels' row chunks, and X^T H whole and
    per column chunk of the gradient kernel. The last entries are the
    sampling of one sweep (256 x 1284 units) by rbmfast's Binary layer and
    by numpy.
    """
    from rbmfast.layers import layer_from_name

    products = ref.ScipyBlasGemms(N_VISIBLE, N_HIDDEN, BATCH_SIZE, 1)
    W, v, h = products.W, products.v, products.h
    out_h, out_v, out_w = products.out_h, products.out_v, products.out_w

    def sweep_products(rows):
        for b0 in range(0, BATCH_SIZE, rows):
            b1 = b0 + rows
            products._product(v[b0:b1], W, out_h[b0:b1])
            products._product(h[b0:b1], W.T, out_v[b0:b1])

    x = data[:BATCH_SIZE]
    xth_chunks = []
    for i0 in range(0, N_VISIBLE, KERNEL_XTH_CHUNK):
        i1 = min(i0 + KERNEL_XTH_CHUNK, N_VISIBLE)
        # G[i0:i1] = X[:, i0:i1]^T H. The kernel reads the columns in place
        # with a row stride of N, but f2py needs a contiguous copy.
        x_chunk = np.ascontiguousarray(x[:, i0:i1])
        xth_chunks.append(_best_ms(
            lambda x_chunk=x_chunk, i0=i0, i1=i1: products._product(
                x_chunk.T, h, out_w[i0:i1])))

    n_units = N_VISIBLE + N_HIDDEN
    inputs = np.random.default_rng(2).standard_normal(
        (BATCH_SIZE, n_units)).astype(np.float32)
    layer = layer_from_name("binary", n_units, np.float32)
    stream = Stream.from_seed(0, 6)
    rng = np.random.default_rng(0)
    scratch = np.empty_like(inputs)
    uniforms = np.empty_like(inputs)
    states = np.empty_like(inputs)

    def numpy_sample():
        scratch[...] = inputs
        ref._sigmoid_inplace(scratch)
        rng.random(out=uniforms, dtype=np.float32)
        np.less(uniforms, scratch, out=states)

    with threadpool_limits(limits=1, user_api="blas"):
        return {
            "sweep_products_256_rows": _best_ms(lambda: sweep_products(BATCH_SIZE)),
            f"sweep_products_{KERNEL_ROW_CHUNK}_row_chunks": _best_ms(
                lambda: sweep_products(KERNEL_ROW_CHUNK)),
            "xth_whole": _best_ms(lambda: products._product(x.T, h, out_w)),
            "xth_column_chunks": xth_chunks,
            "sample_sweep_rbmfast": _best_ms(lambda: layer.sample(inputs, stream, 1)),
            "sample_sweep_numpy": _best_ms(numpy_sample),
        }


def print_diagnostics(diagnostics, thread_counts):
    d = diagnostics
    print("\ndiagnostics, 1 thread, fastest of 15 calls (ms):")
    print(f"  2 products of a sweep, one 256-row call each: "
          f"{d['sweep_products_256_rows']:.2f}; in {KERNEL_ROW_CHUNK}-row chunks: "
          f"{d[f'sweep_products_{KERNEL_ROW_CHUNK}_row_chunks']:.2f}")
    chunks = d["xth_column_chunks"]
    print(f"  X^T H whole: {d['xth_whole']:.2f}; in {len(chunks)} chunks of "
          f"{KERNEL_XTH_CHUNK} visible units: "
          + ", ".join(f"{c:.2f}" for c in chunks))
    for n_threads in thread_counts:
        if n_threads < 2:
            continue
        # OpenMP schedule(static) gives each thread one contiguous run of
        # ceil(chunks / threads) chunks, so the slowest thread sets the time.
        per_thread = -(-len(chunks) // n_threads)
        loads = [sum(chunks[i:i + per_thread])
                 for i in range(0, len(chunks), per_thread)]
        print(f"  X^T H at {n_threads} threads, static split: slowest thread "
              f"{max(loads):.2f} against {sum(chunks) / n_threads:.2f} balanced")
    print(f"  sampling one sweep (256 x {N_VISIBLE + N_HIDDEN} units): rbmfast "
          f"Binary.sample {d['sample_sweep_rbmfast']:.2f}, numpy "
          f"{d['sample_sweep_numpy']:.2f}")


def summarise(raw):
    """Return the table rows: medians in ms and the ratios."""
    rows = []
    for (k, n_threads), times in raw.items():
        medians = {name: statistics.median(sample[0] for sample in samples)
                   for name, samples in times.items()}
        bare = medians["bare GEMMs (numpy)"]
        ours = medians["rbmfast"]
        for name, samples in times.items():
            seconds = [sample[0] for sample in samples]
            loads = [sample[2] for sample in samples if sample[2] is not None]
            median = medians[name]
            row = {
                "implementation": name, "k": k, "threads": n_threads,
                "ms_per_update": 1e3 * median,
                "min_ms_per_update": 1e3 * min(seconds),
                "ratio_to_bare": median / bare,
                "rbmfast_over_this": ours / median,
                "spread": (max(seconds) - min(seconds)) / median,
                "other_cores": statistics.median(loads) if loads else None,
                "samples_ms": [1e3 * s for s in seconds],
                "products_per_update": ref.product_count(k),
            }
            if name.startswith("sklearn"):
                row["products_per_update"] = 5
            if name == "rbmfast":
                row["parts_ms"] = {
                    part: 1e3 * statistics.median(sample[1][part] for sample in samples)
                    for part in samples[0][1]
                }
            rows.append(row)
    return rows


def print_table(rows):
    header = (f"{'implementation':<44} {'k':>3} {'thr':>3} {'ms/update':>10} "
              f"{'/bare':>6} {'rbmfast/this':>12} {'min ms':>8} {'spread':>7} "
              f"{'other':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['implementation']:<44} {row['k']:>3} {row['threads']:>3} "
              f"{row['ms_per_update']:>10.2f} {row['ratio_to_bare']:>6.2f} "
              f"{row['rbmfast_over_this']:>12.2f} {row['min_ms_per_update']:>8.2f} "
              f"{100 * row['spread']:>6.0f}% {_format_load(row['other_cores']):>6}")
    print()
    print("rbmfast parts (medians, ms), against the bare numpy products they contain:")
    print(f"{'k':>3} {'thr':>3} {'update':>8} {'steady':>8} {'setup':>7} "
          f"{'gibbs':>8} {'2k bare':>8} {'adam':>6} "
          f"{'rest':>7} {'4 bare':>7}")
    bare_by_cell = {
        (r["k"], r["threads"]): r["ms_per_update"] / r["products_per_update"]
        for r in rows if r["implementation"] == "bare GEMMs (numpy)"
    }
    for row in rows:
        if row["implementation"] != "rbmfast":
            continue
        parts, k = row["parts_ms"], row["k"]
        per_product = bare_by_cell[(k, row["threads"])]
        rest = parts["steady_update"] - parts["gibbs_k_sweeps"] - parts["adam_step"]
        print(f"{k:>3} {row['threads']:>3} {row['ms_per_update']:>8.2f} "
              f"{parts['steady_update']:>8.2f} {parts['fit_setup']:>7.2f} "
              f"{parts['gibbs_k_sweeps']:>8.2f} {2 * k * per_product:>8.2f} "
              f"{parts['adam_step']:>6.2f} "
              f"{rest:>7.2f} {4 * per_product:>7.2f}")
    print("update: fit time / updates; steady: per update from callback times, "
          "without setup; setup: fit's cost before its first update; gibbs: k "
          "sweeps on 256 chains; 2k bare, 4 bare: that many bare numpy products; "
          "rest: steady - gibbs - adam (both phase gradients and Python glue).")
    print("spread: (max - min) / median over the repetitions; other: median CPU "
          "load of other processes during the timed blocks, in cores.")


def _format_load(cores):
    return "n/a" if cores is None else f"{cores:.2f}"


def describe_machine(env):
    """Return CPU, library and BLAS details for the results file."""
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "rbmfast": getattr(rbmfast, "__version__", None),
        "env": env,
        "threadpool_info": threadpool_info(),
        "loadavg_start": os.getloadavg(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True,
                               check=True).stdout
        info["lscpu_model_name"] = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines()
             if line.startswith("Model name")), None)
    except (OSError, subprocess.CalledProcessError) as error:
        info["lscpu_model_name"] = f"lscpu failed: {error}"
    for module in ("scipy", "torch", "sklearn", "threadpoolctl"):
        if _installed(module):
            info[module] = __import__(module).__version__
    info["rbmfast_commit"] = _git("rev-parse", "HEAD")
    # Uncommitted changes to the package or its kernels, which the timed
    # build may contain.
    info["rbmfast_uncommitted"] = _git("status", "--porcelain", "--", "src", "csrc",
                                       "CMakeLists.txt")
    return info


def _git(*command):
    root = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(["git", *command], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def default_output():
    stamp = datetime.datetime.now()
    path = RESULTS_DIR / f"pcd-{stamp:%Y-%m-%d}.json"
    if path.exists():
        path = RESULTS_DIR / f"pcd-{stamp:%Y-%m-%d-%H%M%S}.json"
    return path


def main(argv=None):
    args = parse_args(argv)
    # Import the optional libraries before describing the machine, so that
    # threadpool_info lists the BLAS and OpenMP libraries they load.
    import scipy.linalg.blas  # noqa: F401

    for module in ("torch", "sklearn.neural_network"):
        if module.split(".")[0] not in args.skip and _installed(module.split(".")[0]):
            __import__(module)
    machine = describe_machine(THREAD_ENV)
    print(f"CPU: {machine['lscpu_model_name']}, {machine['cpu_count']} CPUs; "
          f"load average {machine['loadavg_start'][0]:.2f}; "
          f"BLAS/OpenMP env: {machine['env'] or 'none set'}", flush=True)
    start = time.perf_counter()
    raw = run_benchmark(args)
    machine["loadavg_end"] = os.getloadavg()
    rows = summarise(raw)
    print_table(rows)
    diagnostics = None
    if args.diagnose:
        diagnostics = run_diagnostics(make_data(BATCH_SIZE))
        print_diagnostics(diagnostics, args.threads)
    output = args.output or default_output()
    output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "settings": {"n_visible": N_VISIBLE, "n_hidden": N_HIDDEN,
                     "batch_size": BATCH_SIZE, "density": DENSITY,
                     "dtype": "float32", "reps": args.reps,
                     "updates_per_block": args.updates, "pause_s": PAUSE_S},
        "machine": machine,
        "wall_s": time.perf_counter() - start,
        "rows": rows,
        "diagnostics": diagnostics,
    }
    output.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {output} ({result['wall_s']:.0f} s; load average now "
          f"{machine['loadavg_end'][0]:.2f})")


if __name__ == "__main__":
    main()
