# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrappers of the identity kernels (csrc/reweight.h).

rbmfast.datasets.msa turns an identity fraction into the integer threshold
and the counts into sequence weights, and match counts into identities;
this module only checks the arrays and makes one nogil call per function.
"""
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t

import numpy as np

from rbmfast._kernels.kernels cimport *

include "_common.pxi"


cdef extern from "reweight.h" nogil:
    int rbm_identity_counts(int B, int L, const int8_t *seqs, int ld,
                            int threshold, int64_t *counts, int n_threads)
    int rbm_nearest_rows(int n_query, int n_reference, int L,
                         const uint8_t *query, int ld_query,
                         const uint8_t *reference, int ld_reference,
                         int64_t *index, int32_t *matches, int n_threads)


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


def _check_uint8_states(name, seqs, int q):
    if not isinstance(seqs, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(seqs).__name__}")
    if seqs.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {seqs.dtype}")
    if seqs.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, L), got shape {seqs.shape}")
    if not seqs.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous; pass "
                         f"np.ascontiguousarray({name})")
    if seqs.size and int(seqs.max()) >= q:
        row, col = np.argwhere(seqs >= q)[0]
        raise ValueError(f"{name}[{row}, {col}] = {seqs[row, col]} is outside "
                         f"[0, {q})")


def nearest_rows(query, reference, int q=21, int n_threads=0):
    """nearest_rows(query, reference, q=21, n_threads=0)

    Find, for each row of query, the row of reference that has the same
    state in the most positions.

    Parameters
    ----------
    query : ndarray of uint8, shape (n_query, L)
        C-contiguous states in [0, q), with L >= 1.
    reference : ndarray of uint8, shape (n_reference, L)
        C-contiguous states in [0, q), with n_reference >= 1.
    q : int
        Number of states, in [1, 256]; values outside [0, q) are rejected.
    n_threads : int
        OpenMP threads, 0 for the OpenMP default.

    Returns
    -------
    index : ndarray of int64, shape (n_query,)
        The lowest index of a reference row with the most matches.
    matches : ndarray of int32, shape (n_query,)
        The number of positions, in [0, L], in which the query row and
        ``reference[index]`` have the same state.  Neither output depends
        on `n_threads`.
    """
    if q < 1 or q > 256:
        raise ValueError(f"q must be in [1, 256] for uint8 states, got {q}")
    _check_uint8_states("query", query, q)
    _check_uint8_states("reference", reference, q)
    if query.shape[1] != reference.shape[1]:
        raise ValueError(f"query has {query.shape[1]} columns but reference has "
                         f"{reference.shape[1]}; both must be aligned to the same "
                         "columns")
    cdef int n_query = query.shape[0], n_reference = reference.shape[0]
    cdef int L = query.shape[1], status
    if L < 1:
        raise ValueError("query and reference have no columns; identity needs L >= 1")
    if n_reference < 1:
        raise ValueError("reference has no rows; a nearest row needs at least one")
    index = np.zeros(n_query, dtype=np.int64)
    matches = np.zeros(n_query, dtype=np.int32)
    if n_query == 0:
        return index, matches
    cdef const uint8_t[:, ::1] query_view = query
    cdef const uint8_t[:, ::1] reference_view = reference
    cdef int64_t[::1] index_view = index
    cdef int32_t[::1] matches_view = matches
    with nogil:
        status = rbm_nearest_rows(n_query, n_reference, L, &query_view[0, 0], L,
                                  &reference_view[0, 0], L, &index_view[0],
                                  &matches_view[0], n_threads)
    check_status(status, "rbm_nearest_rows")
    return index, matches
