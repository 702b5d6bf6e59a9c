"""Peak memory of training a Potts RBM on a large alignment.

Trains on random sequences of 20,000 x 1,000 columns (q = 21, uint8
states) with 200 hidden units in float32, two free units constrained
against a binary label, and prints the process's peak resident memory
next to the size of the data, of the weights, and of what the same data
would take one-hot encoded in float32.  Each measurement runs in a fresh
subprocess, so the peak belongs to that run alone.

    python bench/bench_potts_memory.py [--hidden drelu] [--updates 50]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from rbmfast.config import TrainConfig
    from rbmfast.training import train
    B, L, M, hidden, updates = (int(sys.argv[1]), int(sys.argv[2]),
                                int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    rng = np.random.default_rng(0)
    data = rng.integers(0, 21, (B, L), dtype=np.uint8)
    labels = rng.integers(0, 2, B)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    config = TrainConfig(visible="potts", n_states=21, hidden=hidden, n_hidden=M,
                         n_free=2, n_epochs=1, batch_size=64, n_gibbs=10, seed=0)
    start = time.perf_counter()
    rbm, _, state = train(config, data, labels, stop_at_update=updates)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": peak / 1024, "rss_before_training_mib":
                      before / 1024, "updates": state.update,
                      "seconds_per_update": seconds / state.update}))
""")


def measure(n_sequences, n_columns, n_hidden, hidden, updates):
    """Run one training in a subprocess and return its measurements."""
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(n_sequences),
                          str(n_columns), str(n_hidden), hidden, str(updates)],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    mib = 2**20
    result.update({
        "n_sequences": n_sequences, "n_columns": n_columns, "n_hidden": n_hidden,
        "hidden": hidden, "data_mib": n_sequences * n_columns / mib,
        "weights_mib": n_columns * 21 * n_hidden * 4 / mib,
        "one_hot_data_mib": n_sequences * n_columns * 21 * 4 / mib})
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", type=int, default=20000)
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--n-hidden", type=int, default=200)
    parser.add_argument("--hidden", default="drelu")
    parser.add_argument("--updates", type=int, default=50,
                        help="training updates to run (50)")
    args = parser.parse_args(argv)
    r = measure(args.sequences, args.columns, args.n_hidden, args.hidden, args.updates)
    print(f"{r['n_sequences']} sequences x {r['n_columns']} columns, q = 21, "
          f"{r['n_hidden']} {r['hidden']} hidden units, float32, {r['updates']} "
          "updates")
    print(f"  data (uint8)          {r['data_mib']:8.1f} MiB")
    print(f"  weights               {r['weights_mib']:8.1f} MiB")
    print(f"  one-hot data, float32 {r['one_hot_data_mib']:8.1f} MiB (not built)")
    print(f"  peak resident memory  {r['peak_rss_mib']:8.1f} MiB "
          f"({r['rss_before_training_mib']:.1f} MiB before training)")
    print(f"  time per update       {1e3 * r['seconds_per_update']:8.1f} ms")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
