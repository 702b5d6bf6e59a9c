# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrappers of the per-layer C kernels (csrc/layer_rows.h).

Layering: C row kernels <- C batch loops with OpenMP <- these wrappers, which
check shapes with the GIL held and make one nogil call <- rbmfast.layers,
which owns allocation, dtypes and validation of values.  A layer is passed as
(kind, params): its integer kind and a tuple of 1-D C-contiguous parameter
arrays of the batch dtype.
"""
from libc.stdint cimport uint32_t
cimport cython
from cython cimport floating

from rbmfast._kernels.kernels cimport *

include "_common.pxi"

MOMENT_MEAN = 0
MOMENT_VAR = 1
MOMENT_MODE = 2


def has_openmp():
    """Return True when the kernels were compiled with OpenMP."""
    return bool(rbm_has_openmp())


def philox_block(counter, key):
    """Return the four 32-bit words of Philox4x32-10 at (counter, key)."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t out[4]
    for i in range(4):
        c[i] = <uint32_t>int(counter[i])
    k[0] = <uint32_t>int(key[0])
    k[1] = <uint32_t>int(key[1])
    rbm_philox_block(c, k, out)
    return [out[0], out[1], out[2], out[3]]


def erfcx(t):
    """Return exp(t^2) erfc(t) elementwise from the C kernels, as float64."""
    cdef const double[::1] tv = np.ascontiguousarray(t, dtype=np.float64).ravel()
    out = np.empty(tv.shape[0])
    cdef double[::1] ov = out
    if tv.shape[0] > 0:
        with nogil:
            rbm_erfcx_values(tv.shape[0], &tv[0], &ov[0])
    return out.reshape(np.shape(t))


def truncated_normal_excess(alpha, uniform):
    """Return Z - alpha with P(Z > alpha + d | Z > alpha) = uniform.

    Z is standard normal; this is the inverse CDF the ReLU sampler uses.
    alpha and uniform are broadcast together; the result is float64.
    """
    a, u = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64),
                               np.asarray(uniform, dtype=np.float64))
    shape = a.shape
    if not np.all((u > 0) & (u <= 1)):
        raise ValueError("uniform values must lie in (0, 1]")
    cdef const double[::1] av = np.ascontiguousarray(a).ravel()
    cdef const double[::1] uv = np.ascontiguousarray(u).ravel()
    out = np.empty(av.shape[0])
    cdef double[::1] ov = out
    if av.shape[0] > 0:
        with nogil:
            rbm_truncated_normal_excess_values(av.shape[0], &av[0], &uv[0], &ov[0])
    return out.reshape(shape)


def _check_rows(inputs, out, int n):
    if inputs.shape[1] != n or out.shape[1] != n:
        raise ValueError(
            f"inputs {inputs.shape} and output {out.shape} must both have {n} columns")
    if inputs.shape[0] != out.shape[0]:
        raise ValueError(f"inputs {inputs.shape} and output {out.shape} differ in rows")


def sample(int kind, tuple params, const floating[:, ::1] inputs,
           floating[:, ::1] out, key, unsigned long long call,
           unsigned int row0=0, int n_threads=0):
    """sample(kind, params, inputs, out, key, call, row0=0, n_threads=0)

    Sample out (B, n) from the layer given inputs (B, n), drawing row b from
    stream (key, call) with row number row0 + b.
    """
    cdef int n = inputs.shape[1], B = inputs.shape[0], status
    _check_rows(inputs, out, n)
    cdef rbm_stream s = make_stream(key, call)
    cdef rbm_layer_f32 L32
    cdef rbm_layer_f64 L64
    if B == 0:
        return
    if floating is float:
        L32 = layer_f32(kind, params, n)
        with nogil:
            status = rbm_layer_sample_f32(&L32, B, &inputs[0, 0], n, &out[0, 0],
                                          n, &s, row0, n_threads)
    else:
        L64 = layer_f64(kind, params, n)
        with nogil:
            status = rbm_layer_sample_f64(&L64, B, &inputs[0, 0], n, &out[0, 0],
                                          n, &s, row0, n_threads)
    check_status(status, "rbm_layer_sample")


def moment(int kind, tuple params, const floating[:, ::1] inputs,
           floating[:, ::1] out, int what, int n_threads=0):
    """moment(kind, params, inputs, out, what, n_threads=0)

    Write the conditional mean (what=0), variance (1) or mode (2) given
    inputs (B, n) into out (B, n).
    """
    cdef int n = inputs.shape[1], B = inputs.shape[0], status
    _check_rows(inputs, out, n)
    cdef rbm_layer_f32 L32
    cdef rbm_layer_f64 L64
    if B == 0:
        return
    if floating is float:
        L32 = layer_f32(kind, params, n)
        with nogil:
            status = rbm_layer_moment_f32(&L32, B, &inputs[0, 0], n, &out[0, 0],
                                          n, what, n_threads)
    else:
        L64 = layer_f64(kind, params, n)
        with nogil:
            status = rbm_layer_moment_f64(&L64, B, &inputs[0, 0], n, &out[0, 0],
                                          n, what, n_threads)
    check_status(status, "rbm_layer_moment")


def cgf(int kind, tuple params, const floating[:, ::1] inputs,
        double[::1] out, int n_threads=0):
    """cgf(kind, params, inputs, out, n_threads=0)

    out[b] = sum over units of the cumulant generating function at
    theta + inputs[b] (float64 accumulation).
    """
    cdef int n = inputs.shape[1], B = inputs.shape[0], status
    if out.shape[0] != B:
        raise ValueError(f"output has {out.shape[0]} rows, expected {B}")
    cdef rbm_layer_f32 L32
    cdef rbm_layer_f64 L64
    if B == 0:
        return
    if floating is float:
        L32 = layer_f32(kind, params, n)
        with nogil:
            status = rbm_layer_cgf_f32(&L32, B, &inputs[0, 0], n, &out[0], n_threads)
    else:
        L64 = layer_f64(kind, params, n)
        with nogil:
            status = rbm_layer_cgf_f64(&L64, B, &inputs[0, 0], n, &out[0], n_threads)
    check_status(status, "rbm_layer_cgf")


def energy(int kind, tuple params, const floating[:, ::1] x, double[::1] out,
           int n_threads=0):
    """energy(kind, params, x, out, n_threads=0)

    out[b] = sum over units of the layer energy U(x[b]) (float64).
    """
    cdef int n = x.shape[1], B = x.shape[0], status
    if out.shape[0] != B:
        raise ValueError(f"output has {out.shape[0]} rows, expected {B}")
    cdef rbm_layer_f32 L32
    cdef rbm_layer_f64 L64
    if B == 0:
        return
    if floating is float:
        L32 = layer_f32(kind, params, n)
        with nogil:
            status = rbm_layer_energy_f32(&L32, B, &x[0, 0], n, &out[0], n_threads)
    else:
        L64 = layer_f64(kind, params, n)
        with nogil:
            status = rbm_layer_energy_f64(&L64, B, &x[0, 0], n, &out[0], n_threads)
    check_status(status, "rbm_layer_energy")
