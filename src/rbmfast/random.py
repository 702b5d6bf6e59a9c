"""Counter-based random streams for the C kernels.

A stream is a Philox4x32-10 key plus a call counter.  Each sampling
operation of a kernel consumes one call number, and inside a call every draw
is addressed by (call, row, unit).  Samples are therefore the same for any
number of threads, and a stream is saved and resumed as two integers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Stream", "seed_sequence"]


def seed_sequence(seed, *path):
    """Return the numpy SeedSequence of `seed` at spawn key `path`.

    Different `path` tuples give statistically independent children of one
    seed (numpy's SeedSequence spawning), used for weight initialisation,
    minibatch shuffling and the kernels' stream.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(p) for p in path))


@dataclass
class Stream:
    """Philox key and the next unused call number of a kernel stream.

    Parameters
    ----------
    key : tuple of two int
        32-bit words of the Philox key.
    call : int, default 0
        Next call number; every sampling step takes one and advances it.
    """

    key: tuple
    call: int = 0

    @classmethod
    def from_seed(cls, seed, *path):
        """Make the stream of `seed` (and optional spawn key `path`)."""
        words = seed_sequence(seed, *path).generate_state(2, dtype=np.uint32)
        return cls(key=(int(words[0]), int(words[1])), call=0)

    def take(self, n_calls=1):
        """Reserve `n_calls` consecutive call numbers and return the first."""
        if n_calls < 0:
            raise ValueError(f"n_calls must be >= 0, got {n_calls}")
        first = self.call
        self.call += int(n_calls)
        return first

    def state(self):
        """Return the stream as a JSON-serialisable dict."""
        return {"key": [int(self.key[0]), int(self.key[1])], "call": int(self.call)}

    @classmethod
    def from_state(cls, state):
        """Rebuild a stream from :meth:`state` output."""
        key = state["key"]
        if len(key) != 2 or any(not 0 <= int(k) < 2**32 for k in key):
            raise ValueError(f"invalid stream key {key!r}: need two 32-bit words")
        if int(state["call"]) < 0:
            raise ValueError(f"invalid stream call {state['call']!r}: must be >= 0")
        return cls(key=(int(key[0]), int(key[1])), call=int(state["call"]))
