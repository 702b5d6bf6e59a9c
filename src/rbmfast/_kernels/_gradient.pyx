# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrappers of the gradient-accumulation and free-energy kernels
(csrc/gradient_impl.h).
"""
from cython cimport floating

from rbmfast._kernels.kernels cimport *

include "_common.pxi"


def phase_gradient(int vis_kind, tuple vis_params, int hid_kind,
                   tuple hid_params, const floating[:, ::1] weights,
                   const floating[:, ::1] x, const floating[::1] coef,
                   floating[:, ::1] inputs_h, floating[:, ::1] hidden,
                   floating[:, ::1] grad_w, bint accumulate,
                   double[:, ::1] stats_v, double[:, ::1] stats_h,
                   int n_threads=0):
    """phase_gradient(vis_kind, vis_params, hid_kind, hid_params, weights, x,
    coef, inputs_h, hidden, grad_w, accumulate, stats_v, stats_h, n_threads=0)

    Add sum_b coef[b] x[b] E[h | x[b]]^T to grad_w (N, M) (overwrite it when
    accumulate is false) and the parameter statistics to stats_v (R, N)
    and stats_h (R, M), one row per parameter vector (R >= 2).  inputs_h and hidden (B, M) are scratch.
    """
    cdef int B = x.shape[0], N = x.shape[1], M = weights.shape[1], status
    if weights.shape[0] != N or grad_w.shape[0] != N or grad_w.shape[1] != M:
        raise ValueError(f"weights {weights.shape}, gradient {grad_w.shape} and "
                         f"states {x.shape} do not match")
    if coef.shape[0] != B or inputs_h.shape[0] < B or hidden.shape[0] < B:
        raise ValueError("coef and scratch buffers need one row per state")
    if inputs_h.shape[1] != M or hidden.shape[1] != M:
        raise ValueError("scratch buffers need one column per hidden unit")
    # one row of statistics per parameter vector of the layer
    if stats_v.shape[0] < max(len(vis_params), 2) or stats_v.shape[1] != N:
        raise ValueError(f"stats_v must have {max(len(vis_params), 2)} or more "
                         f"rows of {N}, got {tuple(stats_v.shape)[:2]}")
    if stats_h.shape[0] < max(len(hid_params), 2) or stats_h.shape[1] != M:
        raise ValueError(f"stats_h must have {max(len(hid_params), 2)} or more "
                         f"rows of {M}, got {tuple(stats_h.shape)[:2]}")
    if B == 0:
        if not accumulate:
            grad_w[:, :] = 0
        return
    cdef rbm_layer_f32 V32, H32
    cdef rbm_layer_f64 V64, H64
    if floating is float:
        V32 = layer_f32(vis_kind, vis_params, N)
        H32 = layer_f32(hid_kind, hid_params, M)
        with nogil:
            status = rbm_phase_gradient_f32(
                &V32, &H32, &weights[0, 0], B, &x[0, 0], N, &coef[0],
                &inputs_h[0, 0], &hidden[0, 0], &grad_w[0, 0], accumulate,
                &stats_v[0, 0], &stats_h[0, 0], SGEMM, n_threads)
    else:
        V64 = layer_f64(vis_kind, vis_params, N)
        H64 = layer_f64(hid_kind, hid_params, M)
        with nogil:
            status = rbm_phase_gradient_f64(
                &V64, &H64, &weights[0, 0], B, &x[0, 0], N, &coef[0],
                &inputs_h[0, 0], &hidden[0, 0], &grad_w[0, 0], accumulate,
                &stats_v[0, 0], &stats_h[0, 0], DGEMM, n_threads)
    check_status(status, "rbm_phase_gradient")


def free_energy(int vis_kind, tuple vis_params, int hid_kind, tuple hid_params,
                const floating[:, ::1] weights, const floating[:, ::1] x,
                floating[:, ::1] inputs_h, double[::1] out, int n_threads=0):
    """free_energy(vis_kind, vis_params, hid_kind, hid_params, weights, x,
    inputs_h, out, n_threads=0)

    out[b] = F(x[b]) = U_v(x[b]) - sum_mu Gamma_mu(I_mu(x[b])), in float64.
    """
    cdef int B = x.shape[0], N = x.shape[1], M = weights.shape[1], status
    if weights.shape[0] != N:
        raise ValueError(f"weights {weights.shape} do not match states {x.shape}")
    if out.shape[0] != B or inputs_h.shape[0] < B or inputs_h.shape[1] != M:
        raise ValueError("output and scratch need one row per state")
    if B == 0:
        return
    cdef rbm_layer_f32 V32, H32
    cdef rbm_layer_f64 V64, H64
    if floating is float:
        V32 = layer_f32(vis_kind, vis_params, N)
        H32 = layer_f32(hid_kind, hid_params, M)
        with nogil:
            status = rbm_free_energy_f32(&V32, &H32, &weights[0, 0], B, &x[0, 0],
                                         N, &inputs_h[0, 0], &out[0], SGEMM,
                                         n_threads)
    else:
        V64 = layer_f64(vis_kind, vis_params, N)
        H64 = layer_f64(hid_kind, hid_params, M)
        with nogil:
            status = rbm_free_energy_f64(&V64, &H64, &weights[0, 0], B, &x[0, 0],
                                         N, &inputs_h[0, 0], &out[0], DGEMM,
                                         n_threads)
    check_status(status, "rbm_free_energy")
