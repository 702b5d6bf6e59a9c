"""Time the identity-count kernel behind sequence_weights against numpy.

The alignment is synthetic and tree-like: 20 random families over the 20
amino acids, 10 subfamilies per family with 30% of the positions redrawn
and 20% of them turned into gaps, and B sequences drawn from the
subfamilies with another 8% of the positions redrawn.  With L = 200, pairs
from one subfamily are 85% identical on average, pairs from one family 32%
and other pairs 7% (measured on the first 600 sequences at seed 0), so some
pairs pass the 80% threshold and the rest stop comparing at different
columns.  Uniform random sequences would instead let every pair stop after
the first chunk of columns.

Side by side, for each thread count:

- rbmfast: rbmfast.datasets.msa.sequence_weights (the C kernel, early exit
  per pair);
- numpy one-hot: a (B, 21 L) float32 one-hot matrix times its transpose
  gives all match counts in one BLAS product, exact while L < 2^24;
- numpy blocks: blocks of 64 rows compared by broadcasting against all rows.

Every implementation must give the same weights, which the script checks.
numpy gets the thread count through threadpoolctl and rbmfast through
n_threads.  Run from the repository root:
``python bench/bench_reweight.py [--B 2000] [--L 200] [--repeat 3]``.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from rbmfast.datasets import msa

BLOCK_ROWS = 64


def make_alignment(n_sequences, length, seed):
    rng = np.random.default_rng(seed)
    families = rng.integers(1, msa.N_STATES, (20, length))
    subfamilies = np.repeat(families, 10, axis=0)
    redraw = rng.random(subfamilies.shape) < 0.3
    subfamilies[redraw] = rng.integers(1, msa.N_STATES, int(redraw.sum()))
    subfamilies[rng.random(subfamilies.shape) < 0.2] = msa.GAP
    seqs = subfamilies[rng.integers(0, len(subfamilies), n_sequences)]
    redraw = rng.random(seqs.shape) < 0.08
    seqs[redraw] = rng.integers(0, msa.N_STATES, int(redraw.sum()))
    return seqs.astype(np.int8)


def weights_one_hot(seqs, threshold):
    n_sequences, length = seqs.shape
    one_hot = np.zeros((n_sequences, length * msa.N_STATES), dtype=np.float32)
    columns = np.arange(length) * msa.N_STATES + seqs
    one_hot[np.arange(n_sequences)[:, None], columns] = 1.0
    matches = one_hot @ one_hot.T
    return 1.0 / (matches >= threshold).sum(axis=1)


def weights_blocks(seqs, threshold):
    counts = np.empty(len(seqs), dtype=np.int64)
    for start in range(0, len(seqs), BLOCK_ROWS):
        block = seqs[start:start + BLOCK_ROWS]
        matches = (block[:, None, :] == seqs[None, :, :]).sum(axis=2)
        counts[start:start + BLOCK_ROWS] = (matches >= threshold).sum(axis=1)
    return 1.0 / counts


def time_call(function, repeat):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--B", type=int, default=2000, help="number of sequences")
    parser.add_argument("--L", type=int, default=200, help="aligned length")
    parser.add_argument("--identity", type=float, default=0.8,
                        help="identity fraction of sequence_weights")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per row")
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated thread counts")
    args = parser.parse_args()

    seqs = make_alignment(args.B, args.L, seed=0)
    threshold = msa._identity_threshold(args.identity, args.L)
    print(f"B = {args.B}, L = {args.L}, identity = {args.identity} "
          f"(threshold {threshold} positions), median and min of {args.repeat}")
    print(f"{'threads':>7}  {'implementation':<14} {'median s':>9} {'min s':>8} "
          f"{'/rbmfast':>9}")
    for n_threads in [int(n) for n in args.threads.split(",")]:
        rows = []
        with threadpool_limits(limits=n_threads):
            rows.append(("rbmfast", *time_call(
                lambda: msa.sequence_weights(seqs, args.identity, n_threads=n_threads),
                args.repeat)))
            rows.append(("numpy one-hot", *time_call(
                lambda: weights_one_hot(seqs, threshold), args.repeat)))
            rows.append(("numpy blocks", *time_call(
                lambda: weights_blocks(seqs, threshold), args.repeat)))
        reference = rows[0][3]
        for name, median, fastest, weights in rows:
            if not np.array_equal(weights, reference):
                raise SystemExit(f"{name} weights differ from rbmfast's")
            print(f"{n_threads:>7}  {name:<14} {median:>9.4f} {fastest:>8.4f} "
                  f"{median / rows[0][1]:>9.1f}")
    print(f"effective number of sequences: {reference.sum():.2f} of {args.B}")


if __name__ == "__main__":
    main()
