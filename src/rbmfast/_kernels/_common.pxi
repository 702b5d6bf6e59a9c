# Shared by the wrapper modules (included, so each module has its own copy):
# turning (kind, params) into C layer structs, stream structs, statuses into
# exceptions, and the BLAS gemm pointers.
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

import numpy as np
from scipy.linalg import cython_blas as _cython_blas


class KernelError(RuntimeError):
    """A C kernel returned a nonzero status."""


cdef void *_capsule_pointer(str name) except NULL:
    capsule = _cython_blas.__pyx_capi__[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


cdef rbm_sgemm_t SGEMM = <rbm_sgemm_t>_capsule_pointer("sgemm")
cdef rbm_dgemm_t DGEMM = <rbm_dgemm_t>_capsule_pointer("dgemm")


cdef int check_status(int status, str function) except -1:
    if status == RBM_OK:
        return 0
    if status == RBM_ERR_ALLOC:
        raise MemoryError(f"{function}: out of memory for scratch buffers")
    if status == RBM_ERR_NONFINITE:
        raise FloatingPointError(f"{function}: a parameter became NaN or infinite")
    raise KernelError(f"{function} failed with status {status} (invalid arguments)")


cdef rbm_layer_f32 layer_f32(int kind, tuple params, int n) except *:
    cdef rbm_layer_f32 L
    cdef const float[::1] a
    L.kind = kind
    L.n = n
    if len(params) > 4:
        raise ValueError(f"a layer has at most 4 parameter vectors, got {len(params)}")
    for i in range(4):
        L.p[i] = NULL
    for i, arr in enumerate(params):
        a = arr
        if a.shape[0] != n:
            raise ValueError(f"layer parameter {i} has {a.shape[0]} units, expected {n}")
        L.p[i] = &a[0]
    return L


cdef rbm_layer_f64 layer_f64(int kind, tuple params, int n) except *:
    cdef rbm_layer_f64 L
    cdef const double[::1] a
    L.kind = kind
    L.n = n
    if len(params) > 4:
        raise ValueError(f"a layer has at most 4 parameter vectors, got {len(params)}")
    for i in range(4):
        L.p[i] = NULL
    for i, arr in enumerate(params):
        a = arr
        if a.shape[0] != n:
            raise ValueError(f"layer parameter {i} has {a.shape[0]} units, expected {n}")
        L.p[i] = &a[0]
    return L


cdef rbm_stream make_stream(key, unsigned long long call) except *:
    cdef rbm_stream s
    s.key[0] = <uint32_t>int(key[0])
    s.key[1] = <uint32_t>int(key[1])
    s.call = call
    return s


cdef int clamp_stride(Py_ssize_t n_clamp, Py_ssize_t val_rows, Py_ssize_t val_cols,
                      Py_ssize_t n_chains) except -1:
    """Return the row stride of clamp values: 0 when one row serves every
    chain, else the number of clamped units."""
    if val_cols != n_clamp:
        raise ValueError("clamp_val must have one column per clamped unit")
    if val_rows == n_chains and n_chains != 1:
        return <int>n_clamp
    if val_rows != 1:
        raise ValueError(f"clamp_val needs 1 or {n_chains} rows, got {val_rows}")
    return 0


cdef int check_sweep(Py_ssize_t n_chains, Py_ssize_t n_hidden, Py_ssize_t n_inputs_v,
                     h, inputs_h, inputs_v, int n_steps, Py_ssize_t n_clamp,
                     clamp_val) except -1:
    """Check the buffers and clamping of a Gibbs run; return the clamp stride.

    h and inputs_h need (n_chains, n_hidden), inputs_v (n_chains,
    n_inputs_v); clamp_val one column per clamped unit (see clamp_stride).
    """
    if h.shape[0] != n_chains or inputs_h.shape[0] != n_chains or \
            inputs_v.shape[0] != n_chains:
        raise ValueError("v, h, inputs_h and inputs_v must have the same rows")
    if inputs_h.shape[1] != n_hidden or inputs_v.shape[1] != n_inputs_v:
        raise ValueError("scratch inputs have the wrong number of columns")
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    if n_clamp == 0:
        return 0
    if clamp_val is None:
        raise ValueError("clamp_val must have one column per clamped unit")
    return clamp_stride(n_clamp, clamp_val.shape[0], clamp_val.shape[1], n_chains)
