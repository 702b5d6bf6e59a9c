# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrappers of the 2D Ising kernels (csrc/ising.h).

Each wrapper checks the lattice array (int8, C-contiguous, shape
(n_chains, L, L), every value +1 or -1), the temperatures and the counts with
the GIL held, then makes one nogil call and turns its status into an
exception.  rbmfast.datasets.ising builds on these.
"""
from libc.math cimport isfinite
from libc.stdint cimport int8_t, int64_t, uint32_t

import numpy as np

from rbmfast._kernels.kernels cimport *

include "_common.pxi"

cdef extern from "ising.h" nogil:
    int RBM_ISING_MAX_L
    int rbm_ising_metropolis(int8_t *spins, int n_chains, int L,
                             const double *beta, double field, int n_sweeps,
                             const rbm_stream *s, int n_threads)
    int rbm_ising_wolff(int8_t *spins, int n_chains, int L,
                        const double *beta, double field,
                        const int64_t *n_clusters, int64_t max_flips,
                        const rbm_stream *s, int64_t *n_done,
                        int64_t *n_flipped, int n_threads)
    int rbm_ising_observables(const int8_t *spins, int n_chains, int L,
                              double field, double *energy,
                              double *magnetisation, int n_threads)

MAX_L = RBM_ISING_MAX_L


def check_spins(spins, bint writable=False):
    """check_spins(spins, writable=False)

    Raise TypeError or ValueError unless `spins` is a C-contiguous int8
    array of shape (n_chains, L, L) with 2 <= L <= MAX_L and every value +1
    or -1 (and writeable when `writable`).
    """
    if not isinstance(spins, np.ndarray):
        raise TypeError(f"spins must be a numpy array, got {type(spins).__name__}")
    if spins.dtype != np.int8:
        raise TypeError(f"spins must have dtype int8, got {spins.dtype}")
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ValueError(f"spins must have shape (n_chains, L, L), got {spins.shape}")
    if not 2 <= spins.shape[1] <= RBM_ISING_MAX_L:
        raise ValueError(f"lattice side L must be in [2, {RBM_ISING_MAX_L}], "
                         f"got {spins.shape[1]}")
    if not spins.flags.c_contiguous:
        raise ValueError("spins must be C-contiguous; pass np.ascontiguousarray(spins)")
    if writable and not spins.flags.writeable:
        raise ValueError("spins must be writeable, because the update works in place")
    cdef const int8_t[::1] flat = spins.reshape(-1)
    cdef Py_ssize_t k, n = flat.shape[0], bad = -1
    with nogil:
        for k in range(n):
            if flat[k] != 1 and flat[k] != -1:
                bad = k
                break
    if bad >= 0:
        index = np.unravel_index(bad, spins.shape)
        raise ValueError(f"spins must be +1 or -1, got {flat[bad]} at index "
                         f"{tuple(int(i) for i in index)}")


def _chain_betas(beta, Py_ssize_t n_chains):
    """Return beta as a float64 array of length n_chains (a scalar is
    repeated), after checking that every value is finite and >= 0."""
    values = np.asarray(beta, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(n_chains, float(values))
    if values.shape != (n_chains,):
        raise ValueError(f"beta must be a scalar or have shape ({n_chains},), "
                         f"got {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"beta must be finite and >= 0, got {values}")
    return np.ascontiguousarray(values)


def _check_field(double field):
    if not isfinite(field):
        raise ValueError(f"field must be finite, got {field}")


def metropolis(spins, beta, double field, int n_sweeps, key,
               unsigned long long call, int n_threads=0):
    """metropolis(spins, beta, field, n_sweeps, key, call, n_threads=0)

    Run n_sweeps checkerboard Metropolis sweeps in place on spins
    (n_chains, L, L), chain c at inverse temperature beta[c] (or a scalar
    beta for all chains) in field `field`.  Sweep k draws from stream
    (key, call + k), so a call uses n_sweeps call numbers.
    """
    check_spins(spins, writable=True)
    _check_field(field)
    if n_sweeps < 0:
        raise ValueError(f"n_sweeps must be >= 0, got {n_sweeps}")
    cdef int n_chains = spins.shape[0], L = spins.shape[1], status
    cdef const double[::1] b = _chain_betas(beta, n_chains)
    if n_chains == 0 or n_sweeps == 0:
        return
    cdef int8_t[:, :, ::1] x = spins
    cdef rbm_stream s = make_stream(key, call)
    with nogil:
        status = rbm_ising_metropolis(&x[0, 0, 0], n_chains, L, &b[0], field,
                                      n_sweeps, &s, n_threads)
    check_status(status, "rbm_ising_metropolis")


def wolff(spins, beta, n_clusters, key, unsigned long long call,
          long long max_flips=0, double field=0.0, int n_threads=0):
    """wolff(spins, beta, n_clusters, key, call, max_flips=0, field=0.0,
    n_threads=0)

    Grow and flip Wolff clusters in place on spins (n_chains, L, L), chain c
    at inverse temperature beta[c].  Chain c grows n_clusters[c] clusters
    (or a scalar count for all chains), cluster k drawing from stream
    (key, call + k), so a call uses max(n_clusters) call numbers.  With
    max_flips > 0 a chain stops once it has flipped at least max_flips
    spins.  Only field = 0 is supported.

    Returns
    -------
    n_done : ndarray of int64, shape (n_chains,)
        Clusters grown per chain.
    n_flipped : ndarray of int64, shape (n_chains,)
        Spins flipped per chain.
    """
    check_spins(spins, writable=True)
    if field != 0.0:
        raise ValueError(f"the Wolff update supports only field = 0, got {field}; "
                         "use the Metropolis update with a field")
    if max_flips < 0:
        raise ValueError(f"max_flips must be >= 0, got {max_flips}")
    cdef int n_chains = spins.shape[0], L = spins.shape[1], status
    cdef const double[::1] b = _chain_betas(beta, n_chains)
    counts = np.asarray(n_clusters)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"n_clusters must be integers, got dtype {counts.dtype}")
    if counts.ndim == 0:
        counts = np.full(n_chains, int(counts))
    if counts.shape != (n_chains,):
        raise ValueError(f"n_clusters must be a scalar or have shape ({n_chains},), "
                         f"got {counts.shape}")
    if np.any(counts < 0):
        raise ValueError(f"n_clusters must be >= 0, got {counts}")
    cdef const int64_t[::1] k = np.ascontiguousarray(counts, dtype=np.int64)
    done = np.zeros(n_chains, dtype=np.int64)
    flipped = np.zeros(n_chains, dtype=np.int64)
    if n_chains == 0:
        return done, flipped
    cdef int64_t[::1] d = done
    cdef int64_t[::1] f = flipped
    cdef int8_t[:, :, ::1] x = spins
    cdef rbm_stream s = make_stream(key, call)
    with nogil:
        status = rbm_ising_wolff(&x[0, 0, 0], n_chains, L, &b[0], field, &k[0],
                                 max_flips, &s, &d[0], &f[0], n_threads)
    check_status(status, "rbm_ising_wolff")
    return done, flipped


def observables(spins, double field=0.0, int n_threads=0):
    """observables(spins, field=0.0, n_threads=0)

    Return the energy per spin and the signed magnetisation per spin of
    every chain of spins (n_chains, L, L), as two float64 arrays of shape
    (n_chains,).
    """
    check_spins(spins)
    _check_field(field)
    cdef int n_chains = spins.shape[0], L = spins.shape[1], status
    energy = np.empty(n_chains, dtype=np.float64)
    magnetisation = np.empty(n_chains, dtype=np.float64)
    if n_chains == 0:
        return energy, magnetisation
    cdef const int8_t[:, :, ::1] x = spins
    cdef double[::1] e = energy
    cdef double[::1] m = magnetisation
    with nogil:
        status = rbm_ising_observables(&x[0, 0, 0], n_chains, L, field, &e[0],
                                       &m[0], n_threads)
    check_status(status, "rbm_ising_observables")
    return energy, magnetisation
