# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrapper of the identity-count kernel (csrc/reweight.h).

rbmfast.datasets.msa turns an identity fraction into the integer threshold
and the counts into sequence weights; this module only checks the array and
makes one nogil call.
"""
from libc.stdint cimport int8_t, int64_t

import numpy as np

from rbmfast._kernels.kernels cimport *

include "_common.pxi"


cdef extern from "reweight.h" nogil:
    int rbm_identity_counts(int B, int L, const int8_t *seqs, int ld,
                            int threshold, int64_t *counts, int n_threads)


def identity_counts(seqs, int threshold, int q=21, int n_threads=0):
    """identity_counts(seqs, threshold, q=21, n_threads=0)

    Count, for each row b of seqs, the rows b' (b included) that have the
    same state as b in at least `threshold` positions.

    Parameters
    ----------
    seqs : ndarray of int8, shape (B, L)
        C-contiguous states in [0, q), with L >= 1.
    threshold : int
        Minimum number of identical positions, 0 <= threshold <= L.
    q : int
        Number of states; values outside [0, q) are rejected.
    n_threads : int
        OpenMP threads, 0 for the OpenMP default.

    Returns
    -------
    counts : ndarray of int64, shape (B,)
        Every count is at least 1 and does not depend on `n_threads`.
    """
    if not isinstance(seqs, np.ndarray):
        raise TypeError(f"seqs must be a numpy array, got {type(seqs).__name__}")
    if seqs.dtype != np.int8:
        raise TypeError(f"seqs must have dtype int8, got {seqs.dtype}")
    if seqs.ndim != 2:
        raise ValueError(f"seqs must be 2-D (B, L), got shape {seqs.shape}")
    if not seqs.flags.c_contiguous:
        raise ValueError("seqs must be C-contiguous; pass np.ascontiguousarray(seqs)")
    cdef int B = seqs.shape[0], L = seqs.shape[1], status
    if L < 1:
        raise ValueError("seqs has no columns; identity needs L >= 1")
    if not 0 <= threshold <= L:
        raise ValueError(f"threshold must be in [0, {L}] for L = {L}, got {threshold}")
    if q < 1 or q > 128:
        raise ValueError(f"q must be in [1, 128] for int8 states, got {q}")
    counts = np.zeros(B, dtype=np.int64)
    if B == 0:
        return counts
    low, high = int(seqs.min()), int(seqs.max())
    if low < 0 or high >= q:
        bad = low if low < 0 else high
        row, col = np.argwhere(seqs == bad)[0]
        raise ValueError(f"seqs[{row}, {col}] = {bad} is outside [0, {q})")
    cdef const int8_t[:, ::1] view = seqs
    cdef int64_t[::1] out = counts
    with nogil:
        status = rbm_identity_counts(B, L, &view[0, 0], L, threshold, &out[0],
                                     n_threads)
    check_status(status, "rbm_identity_counts")
    return counts
