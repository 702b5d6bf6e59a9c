"""Thread counts for the OpenMP kernels and the BLAS."""
from __future__ import annotations

import contextlib
import os

from threadpoolctl import ThreadpoolController, threadpool_limits

__all__ = ["resolve_threads", "blas_threads", "single_threaded_blas"]

_CONTROLLER = None
# nesting depth of single_threaded_blas, so inner blocks cost nothing
_DEPTH = 0


def resolve_threads(n_threads):
    """Return the OpenMP thread count to pass to the kernels.

    None means the OpenMP default, which honours ``OMP_NUM_THREADS``; the
    kernels read it as 0.  Negative values count back from the number of
    CPUs (-1 is all of them), as in scikit-learn.
    """
    if n_threads is None:
        return 0
    if isinstance(n_threads, bool) or not isinstance(n_threads, int):
        raise TypeError(f"n_threads must be an int or None, got {n_threads!r}")
    if n_threads == 0:
        raise ValueError("n_threads=0 is invalid: use None for the default or >= 1")
    if n_threads < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_threads)
    return n_threads


@contextlib.contextmanager
def blas_threads(n_threads):
    """Limit the BLAS to the kernels' thread count inside the block.

    With ``n_threads=None`` the BLAS keeps its own setting.
    """
    resolved = resolve_threads(n_threads)
    if resolved == 0:
        yield
        return
    with threadpool_limits(limits=resolved, user_api="blas"):
        yield


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with the BLAS on one thread.

    The kernels call the BLAS from inside their OpenMP regions, one product
    per thread and tile.  A multi-threaded BLAS there would start a second
    pool of threads on the same cores, which is many times slower.
    """
    global _CONTROLLER, _DEPTH
    if _DEPTH > 0:
        yield
        return
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        _DEPTH += 1
        try:
            yield
        finally:
            _DEPTH -= 1
