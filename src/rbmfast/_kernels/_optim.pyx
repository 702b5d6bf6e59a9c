# cython: language_level=3, boundscheck=False, wraparound=False
"""Wrappers of the elementwise optimiser kernels (csrc/optim_impl.h).

Parameters, gradients and optimiser buffers are flat C-contiguous arrays of
one dtype; rbmfast.optimizers owns them and passes raveled views.
"""
from cython cimport floating

from rbmfast._kernels.kernels cimport *

include "_common.pxi"


def adam(floating[::1] param, const floating[::1] grad, floating[::1] m,
         floating[::1] v, double lr, double beta1, double beta2, double eps,
         long t, double l2=0.0, double l1=0.0, int n_threads=0):
    """adam(param, grad, m, v, lr, beta1, beta2, eps, t, l2=0, l1=0, n_threads=0)

    One bias-corrected Adam step at step t >= 1 on param, in place, with the
    L2 / L1 penalties added to grad.  Raises FloatingPointError when an
    updated parameter is not finite.
    """
    cdef size_t n = param.shape[0]
    cdef int status
    if grad.shape[0] != n or m.shape[0] != n or v.shape[0] != n:
        raise ValueError("param, grad, m and v must have the same length")
    if t < 1:
        raise ValueError(f"Adam step t must be >= 1, got {t}")
    if n == 0:
        return
    if floating is float:
        with nogil:
            status = rbm_adam_f32(n, &param[0], &grad[0], &m[0], &v[0], lr, beta1,
                                  beta2, eps, t, l2, l1, n_threads)
    else:
        with nogil:
            status = rbm_adam_f64(n, &param[0], &grad[0], &m[0], &v[0], lr, beta1,
                                  beta2, eps, t, l2, l1, n_threads)
    check_status(status, "rbm_adam")


def sgd(floating[::1] param, const floating[::1] grad, floating[::1] buf,
        double lr, double momentum=0.0, double l2=0.0, double l1=0.0,
        int n_threads=0):
    """sgd(param, grad, buf, lr, momentum=0, l2=0, l1=0, n_threads=0)

    One SGD step in place; buf (same length) holds the momentum and may be
    None when momentum is 0.
    """
    cdef size_t n = param.shape[0]
    cdef int status
    cdef floating *bptr = NULL
    if grad.shape[0] != n:
        raise ValueError("param and grad must have the same length")
    if buf is not None:
        if buf.shape[0] != n:
            raise ValueError("buf must have the same length as param")
        if n > 0:
            bptr = &buf[0]
    if n == 0:
        return
    if floating is float:
        with nogil:
            status = rbm_sgd_f32(n, &param[0], &grad[0], bptr, lr, momentum, l2,
                                 l1, n_threads)
    else:
        with nogil:
            status = rbm_sgd_f64(n, &param[0], &grad[0], bptr, lr, momentum, l2,
                                 l1, n_threads)
    check_status(status, "rbm_sgd")
