# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrappers of the Potts visible-layer kernels (csrc/potts_impl.h).

A Potts layer is passed as its fields theta, an (n, q) C-contiguous array;
its states are (B, n) uint8 category indices and its inputs and weights
are laid out as if one-hot, (B, n q) and (n q, M).  The caller
(rbmfast.layers.potts, rbmfast.rbm) checks that every state is below q;
these wrappers check shapes and make one nogil call.
"""
from libc.stdint cimport uint8_t, uint32_t
from cython cimport floating

from rbmfast._kernels.kernels cimport *

include "_common.pxi"


cdef rbm_potts_f32 potts_f32(const float[:, ::1] theta) except *:
    cdef rbm_potts_f32 V
    V.n = <int>theta.shape[0]
    V.q = <int>theta.shape[1]
    V.theta = &theta[0, 0]
    return V


cdef rbm_potts_f64 potts_f64(const double[:, ::1] theta) except *:
    cdef rbm_potts_f64 V
    V.n = <int>theta.shape[0]
    V.q = <int>theta.shape[1]
    V.theta = &theta[0, 0]
    return V


cdef int check_fields(theta) except -1:
    if theta.shape[0] < 1 or not 1 <= theta.shape[1] <= 256:
        raise ValueError(f"Potts fields must be (n_sites >= 1, 1 <= q <= 256), got "
                         f"{tuple(theta.shape)[:2]}")
    return 0


cdef int check_weights(theta, weights, Py_ssize_t M) except -1:
    check_fields(theta)
    if weights.shape[0] != theta.shape[0] * theta.shape[1] or weights.shape[1] != M:
        raise ValueError(f"weights {tuple(weights.shape)[:2]} do not match "
                         f"{theta.shape[0]} sites x {theta.shape[1]} states and "
                         f"{M} hidden units")
    return 0


def inputs_h(const floating[:, ::1] theta, const floating[:, ::1] weights,
             const uint8_t[:, ::1] v, floating[:, ::1] out, int n_threads=0):
    """inputs_h(theta, weights, v, out, n_threads=0)

    out[b, mu] = sum_i weights[i q + v[b, i], mu], the hidden inputs.
    """
    cdef int B = v.shape[0], M = out.shape[1], status
    check_weights(theta, weights, M)
    if v.shape[1] != theta.shape[0] or out.shape[0] != B:
        raise ValueError(f"states {tuple(v.shape)[:2]} and output "
                         f"{tuple(out.shape)[:2]} do not match the layer")
    if B == 0:
        return
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    if floating is float:
        V32 = potts_f32(theta)
        with nogil:
            status = rbm_potts_inputs_h_f32(&V32, M, &weights[0, 0], B, &v[0, 0],
                                            v.shape[1], &out[0, 0], n_threads)
    else:
        V64 = potts_f64(theta)
        with nogil:
            status = rbm_potts_inputs_h_f64(&V64, M, &weights[0, 0], B, &v[0, 0],
                                            v.shape[1], &out[0, 0], n_threads)
    check_status(status, "rbm_potts_inputs_h")


cdef int check_inputs(theta, inputs, Py_ssize_t rows) except -1:
    check_fields(theta)
    if inputs.shape[1] != theta.shape[0] * theta.shape[1]:
        raise ValueError(f"inputs need {theta.shape[0] * theta.shape[1]} columns "
                         f"(sites x states), got {inputs.shape[1]}")
    if inputs.shape[0] != rows:
        raise ValueError(f"inputs have {inputs.shape[0]} rows, the output {rows}")
    return 0


def sample(const floating[:, ::1] theta, const floating[:, ::1] inputs,
           uint8_t[:, ::1] out, key, unsigned long long call,
           unsigned int row0=0, int n_threads=0):
    """sample(theta, inputs, out, key, call, row0=0, n_threads=0)

    Draw the states out (B, n) given the inputs (B, n q), row b from stream
    (key, call) at row row0 + b, one uniform per site.
    """
    cdef int B = out.shape[0], status
    check_inputs(theta, inputs, B)
    if out.shape[1] != theta.shape[0]:
        raise ValueError(f"output needs {theta.shape[0]} columns, got {out.shape[1]}")
    if B == 0:
        return
    cdef rbm_stream s = make_stream(key, call)
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    if floating is float:
        V32 = potts_f32(theta)
        with nogil:
            status = rbm_potts_sample_f32(&V32, B, &inputs[0, 0], &out[0, 0],
                                          out.shape[1], &s, row0, n_threads)
    else:
        V64 = potts_f64(theta)
        with nogil:
            status = rbm_potts_sample_f64(&V64, B, &inputs[0, 0], &out[0, 0],
                                          out.shape[1], &s, row0, n_threads)
    check_status(status, "rbm_potts_sample")


def probabilities(const floating[:, ::1] theta, const floating[:, ::1] inputs,
                  floating[:, ::1] out, int n_threads=0):
    """probabilities(theta, inputs, out, n_threads=0)

    out (B, n q) = softmax over the states of each site of theta + inputs.
    """
    cdef int B = inputs.shape[0], status
    check_inputs(theta, inputs, out.shape[0])
    if out.shape[1] != inputs.shape[1]:
        raise ValueError("output must have the shape of the inputs")
    if B == 0:
        return
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    if floating is float:
        V32 = potts_f32(theta)
        with nogil:
            status = rbm_potts_probabilities_f32(&V32, B, &inputs[0, 0], &out[0, 0],
                                                 n_threads)
    else:
        V64 = potts_f64(theta)
        with nogil:
            status = rbm_potts_probabilities_f64(&V64, B, &inputs[0, 0], &out[0, 0],
                                                 n_threads)
    check_status(status, "rbm_potts_probabilities")


def cgf(const floating[:, ::1] theta, const floating[:, ::1] inputs,
        double[::1] out, int n_threads=0):
    """cgf(theta, inputs, out, n_threads=0)

    out[b] = sum_i log sum_a exp(theta[i, a] + inputs[b, i q + a]).
    """
    cdef int B = inputs.shape[0], status
    check_inputs(theta, inputs, out.shape[0])
    if B == 0:
        return
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    if floating is float:
        V32 = potts_f32(theta)
        with nogil:
            status = rbm_potts_cgf_f32(&V32, B, &inputs[0, 0], &out[0], n_threads)
    else:
        V64 = potts_f64(theta)
        with nogil:
            status = rbm_potts_cgf_f64(&V64, B, &inputs[0, 0], &out[0], n_threads)
    check_status(status, "rbm_potts_cgf")


def gibbs(const floating[:, ::1] theta, int hid_kind, tuple hid_params,
          const floating[:, ::1] weights, uint8_t[:, ::1] v, floating[:, ::1] h,
          floating[:, ::1] inputs_h, floating[:, ::1] inputs_v, int n_steps, key,
          unsigned long long call, unsigned int row0=0,
          const int[::1] clamp_idx=None, const floating[:, ::1] clamp_val=None,
          int n_threads=0):
    """gibbs(theta, hid_kind, hid_params, weights, v, h, inputs_h, inputs_v,
    n_steps, key, call, row0=0, clamp_idx=None, clamp_val=None, n_threads=0)

    Run n_steps sweeps in place on the Potts chains v (B, n), leaving the
    last hidden sample in h (B, M); inputs_h (B, M) and inputs_v (B, n q)
    are scratch.  Streams and clamping as in rbmfast._kernels._gibbs.gibbs.
    """
    cdef int B = v.shape[0], M = h.shape[1], status
    cdef int n_clamp = 0, clamp_ld = 0
    cdef const int *idx_ptr = NULL
    check_weights(theta, weights, M)
    if v.shape[1] != theta.shape[0]:
        raise ValueError(f"chains have {v.shape[1]} sites, the layer {theta.shape[0]}")
    if clamp_idx is not None and clamp_idx.shape[0] > 0:
        n_clamp = clamp_idx.shape[0]
        idx_ptr = &clamp_idx[0]
    clamp_ld = check_sweep(B, M, weights.shape[0], h, inputs_h, inputs_v, n_steps, n_clamp,
                           None if clamp_val is None else clamp_val)
    if B == 0 or n_steps == 0:
        return
    cdef rbm_stream s = make_stream(key, call)
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    cdef rbm_layer_f32 H32
    cdef rbm_layer_f64 H64
    cdef const float *cv32 = NULL
    cdef const double *cv64 = NULL
    if floating is float:
        V32 = potts_f32(theta)
        H32 = layer_f32(hid_kind, hid_params, M)
        if n_clamp > 0:
            cv32 = &clamp_val[0, 0]
        with nogil:
            status = rbm_potts_gibbs_f32(&V32, &H32, &weights[0, 0], B, &v[0, 0],
                                         &h[0, 0], &inputs_h[0, 0],
                                         &inputs_v[0, 0], n_steps, &s, row0,
                                         n_clamp, idx_ptr, cv32, clamp_ld, SGEMM,
                                         n_threads)
    else:
        V64 = potts_f64(theta)
        H64 = layer_f64(hid_kind, hid_params, M)
        if n_clamp > 0:
            cv64 = &clamp_val[0, 0]
        with nogil:
            status = rbm_potts_gibbs_f64(&V64, &H64, &weights[0, 0], B, &v[0, 0],
                                         &h[0, 0], &inputs_h[0, 0],
                                         &inputs_v[0, 0], n_steps, &s, row0,
                                         n_clamp, idx_ptr, cv64, clamp_ld, DGEMM,
                                         n_threads)
    check_status(status, "rbm_potts_gibbs")


def phase_gradient(const floating[:, ::1] theta, int hid_kind, tuple hid_params,
                   const floating[:, ::1] weights, const uint8_t[:, ::1] x,
                   const floating[::1] coef, floating[:, ::1] inputs_h,
                   floating[:, ::1] hidden, floating[:, ::1] grad_w,
                   bint accumulate, double[:, ::1] stats_v,
                   double[:, ::1] stats_h, int n_threads=0):
    """phase_gradient(theta, hid_kind, hid_params, weights, x, coef, inputs_h,
    hidden, grad_w, accumulate, stats_v, stats_h, n_threads=0)

    Scatter-add coef[b] E[h | x[b]] into the rows i q + x[b, i] of grad_w
    (n q, M) (overwrite it when accumulate is false), coef[b] into
    stats_v[0, i q + x[b, i]], and the hidden statistics into stats_h (R, M).
    inputs_h and hidden (B, M) are scratch.
    """
    cdef int B = x.shape[0], M = weights.shape[1], status
    check_weights(theta, weights, M)
    cdef Py_ssize_t nq = weights.shape[0]
    if x.shape[1] != theta.shape[0]:
        raise ValueError(f"states have {x.shape[1]} sites, the layer {theta.shape[0]}")
    if grad_w.shape[0] != nq or grad_w.shape[1] != M:
        raise ValueError(f"gradient {tuple(grad_w.shape)[:2]} does not match the "
                         f"weights {tuple(weights.shape)[:2]}")
    if coef.shape[0] != B or inputs_h.shape[0] < B or hidden.shape[0] < B:
        raise ValueError("coef and scratch buffers need one row per state")
    if inputs_h.shape[1] != M or hidden.shape[1] != M:
        raise ValueError("scratch buffers need one column per hidden unit")
    if stats_v.shape[0] < 1 or stats_v.shape[1] != nq:
        raise ValueError(f"stats_v must have rows of {nq}")
    if stats_h.shape[0] < max(len(hid_params), 2) or stats_h.shape[1] != M:
        raise ValueError(f"stats_h must have {max(len(hid_params), 2)} or more "
                         f"rows of {M}")
    if B == 0:
        if not accumulate:
            grad_w[:, :] = 0
        return
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    cdef rbm_layer_f32 H32
    cdef rbm_layer_f64 H64
    if floating is float:
        V32 = potts_f32(theta)
        H32 = layer_f32(hid_kind, hid_params, M)
        with nogil:
            status = rbm_potts_phase_gradient_f32(
                &V32, &H32, &weights[0, 0], B, &x[0, 0], x.shape[1], &coef[0],
                &inputs_h[0, 0], &hidden[0, 0], &grad_w[0, 0], accumulate,
                &stats_v[0, 0], &stats_h[0, 0], n_threads)
    else:
        V64 = potts_f64(theta)
        H64 = layer_f64(hid_kind, hid_params, M)
        with nogil:
            status = rbm_potts_phase_gradient_f64(
                &V64, &H64, &weights[0, 0], B, &x[0, 0], x.shape[1], &coef[0],
                &inputs_h[0, 0], &hidden[0, 0], &grad_w[0, 0], accumulate,
                &stats_v[0, 0], &stats_h[0, 0], n_threads)
    check_status(status, "rbm_potts_phase_gradient")


def free_energy(const floating[:, ::1] theta, int hid_kind, tuple hid_params,
                const floating[:, ::1] weights, const uint8_t[:, ::1] x,
                floating[:, ::1] inputs_h, double[::1] out, int n_threads=0):
    """free_energy(theta, hid_kind, hid_params, weights, x, inputs_h, out,
    n_threads=0)

    out[b] = -sum_i theta[i, x[b, i]] - sum_mu Gamma_mu(I_mu(x[b])).
    """
    cdef int B = x.shape[0], M = weights.shape[1], status
    check_weights(theta, weights, M)
    if x.shape[1] != theta.shape[0]:
        raise ValueError(f"states have {x.shape[1]} sites, the layer {theta.shape[0]}")
    if out.shape[0] != B or inputs_h.shape[0] < B or inputs_h.shape[1] != M:
        raise ValueError("output and scratch need one row per state")
    if B == 0:
        return
    cdef rbm_potts_f32 V32
    cdef rbm_potts_f64 V64
    cdef rbm_layer_f32 H32
    cdef rbm_layer_f64 H64
    if floating is float:
        V32 = potts_f32(theta)
        H32 = layer_f32(hid_kind, hid_params, M)
        with nogil:
            status = rbm_potts_free_energy_f32(&V32, &H32, &weights[0, 0], B,
                                               &x[0, 0], x.shape[1],
                                               &inputs_h[0, 0], &out[0], n_threads)
    else:
        V64 = potts_f64(theta)
        H64 = layer_f64(hid_kind, hid_params, M)
        with nogil:
            status = rbm_potts_free_energy_f64(&V64, &H64, &weights[0, 0], B,
                                               &x[0, 0], x.shape[1],
                                               &inputs_h[0, 0], &out[0], n_threads)
    check_status(status, "rbm_potts_free_energy")
