# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrapper of the fused block-Gibbs sweep kernel (csrc/gibbs_impl.h).

The caller (rbmfast.rbm) validates the layers and states and allocates the
scratch inputs; this module checks shapes and makes one nogil call.
"""
from libc.stdint cimport uint32_t
from cython cimport floating

from rbmfast._kernels.kernels cimport *

include "_common.pxi"


def gibbs(int vis_kind, tuple vis_params, int hid_kind, tuple hid_params,
          const floating[:, ::1] weights, floating[:, ::1] v,
          floating[:, ::1] h, floating[:, ::1] inputs_h,
          floating[:, ::1] inputs_v, int n_steps, key,
          unsigned long long call, unsigned int row0=0,
          const int[::1] clamp_idx=None, const floating[:, ::1] clamp_val=None,
          int n_threads=0):
    """gibbs(vis_kind, vis_params, hid_kind, hid_params, weights, v, h,
    inputs_h, inputs_v, n_steps, key, call, row0=0, clamp_idx=None,
    clamp_val=None, n_threads=0)

    Run n_steps sweeps h ~ p(h|v), v ~ p(v|h) in place on chains v (B, N),
    leaving the last hidden sample in h (B, M).  Sweep s uses stream calls
    call + 2 s and call + 2 s + 1.  clamp_idx (C,) and clamp_val (B, C) or
    (1, C) fix hidden units after each hidden sampling step.
    """
    cdef int B = v.shape[0], N = v.shape[1], M = h.shape[1], status
    cdef int n_clamp = 0, clamp_ld = 0
    cdef const int *idx_ptr = NULL
    if weights.shape[0] != N or weights.shape[1] != M:
        raise ValueError(f"weights {weights.shape} do not match v {v.shape}, h {h.shape}")
    if clamp_idx is not None and clamp_idx.shape[0] > 0:
        n_clamp = clamp_idx.shape[0]
        idx_ptr = &clamp_idx[0]
    clamp_ld = check_sweep(B, M, N, h, inputs_h, inputs_v, n_steps, n_clamp,
                           None if clamp_val is None else clamp_val)
    if B == 0 or n_steps == 0:
        return
    cdef rbm_stream s = make_stream(key, call)
    cdef rbm_layer_f32 V32, H32
    cdef rbm_layer_f64 V64, H64
    cdef const float *cv32 = NULL
    cdef const double *cv64 = NULL
    if floating is float:
        V32 = layer_f32(vis_kind, vis_params, N)
        H32 = layer_f32(hid_kind, hid_params, M)
        if n_clamp > 0:
            cv32 = &clamp_val[0, 0]
        with nogil:
            status = rbm_gibbs_f32(&V32, &H32, &weights[0, 0], B, &v[0, 0],
                                   &h[0, 0], &inputs_h[0, 0], &inputs_v[0, 0],
                                   n_steps, &s, row0, n_clamp, idx_ptr, cv32,
                                   clamp_ld, SGEMM, n_threads)
    else:
        V64 = layer_f64(vis_kind, vis_params, N)
        H64 = layer_f64(hid_kind, hid_params, M)
        if n_clamp > 0:
            cv64 = &clamp_val[0, 0]
        with nogil:
            status = rbm_gibbs_f64(&V64, &H64, &weights[0, 0], B, &v[0, 0],
                                   &h[0, 0], &inputs_h[0, 0], &inputs_v[0, 0],
                                   n_steps, &s, row0, n_clamp, idx_ptr, cv64,
                                   clamp_ld, DGEMM, n_threads)
    check_status(status, "rbm_gibbs")
