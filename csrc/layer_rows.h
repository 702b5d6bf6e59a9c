/* Row-level layer functions, written once for REAL = float / double.
 *
 * Included once per precision, after f32.h or f64.h, by every kernel file
 * that samples or reduces a layer.  Units take x = theta + I, with I the
 * input from the other layer:
 *   Binary    {0,1}   U(h) = -theta h             cgf = log(1 + e^x)
 *   Spin      {-1,1}  U(s) = -theta s             cgf = log(2 cosh x)
 *   Gaussian  real    U(h) = gamma h^2/2 - theta h
 *                     cgf = x^2 / (2 gamma) + log(2 pi / gamma) / 2
 * The elementwise loops are written so that the compiler vectorises them;
 * with libmvec, exp runs on SIMD lanes (see simd_math.h).
 */
#include "precision.h"

/* p[j] = 1 / (1 + exp(-scale (theta[j] + I[j]))).  Finite inputs give
 * values in [0, 1]: exp overflows to +inf for large negative x and 1/inf is
 * 0, so no branch is needed. */
static inline void FN(sigmoid_row)(int n, const REAL *theta, const REAL *I,
                                   REAL scale, REAL *p) {
#pragma omp simd
    for (int j = 0; j < n; j++) {
        REAL x = scale * (theta[j] + I[j]);
        p[j] = (REAL)1 / ((REAL)1 + REXP(-x));
    }
}

/* Per-row scratch: random words (rounded up to whole Philox blocks), then
 * the probabilities or normal draws of the row. */
static inline size_t FN(row_scratch_bytes)(int n) {
    size_t words = ((size_t)n + 3) / 4 * 4;
    return words * sizeof(uint32_t) + (size_t)n * sizeof(double) + 64;
}

static inline void FN(sample_row_discrete)(const LAYER *L, const REAL *I,
                                           REAL *x, const rbm_stream *s,
                                           uint32_t row, void *scratch) {
    int n = L->n;
    uint32_t *u = (uint32_t *)scratch;
    REAL *p = (REAL *)(u + ((size_t)n + 3) / 4 * 4);
    int spin = L->kind == RBM_SPIN;
    rbm_philox_words(s->key, s->call, row, n, u);
    FN(sigmoid_row)(n, L->p[0], I, spin ? (REAL)2 : (REAL)1, p);
    REAL low = spin ? (REAL)-1 : (REAL)0;
#pragma omp simd
    for (int j = 0; j < n; j++) {
        /* uniform on [0, 1) with 24 bits, exact in float */
        REAL uj = (REAL)(int32_t)(u[j] >> 8) * (REAL)(1.0 / 16777216.0);
        x[j] = uj < p[j] ? (REAL)1 : low;
    }
}

static inline void FN(sample_row_gaussian)(const LAYER *L, const REAL *I,
                                           REAL *x, const rbm_stream *s,
                                           uint32_t row, void *scratch) {
    const REAL *theta = L->p[0], *gamma = L->p[1];
    double *z = (double *)scratch;
    rbm_philox_normals(s->key, s->call, row, L->n, z);
    for (int j = 0; j < L->n; j++) {
        double g = (double)gamma[j];
        x[j] = (REAL)(((double)theta[j] + I[j]) / g + z[j] / sqrt(g));
    }
}

/* Sample one row x (n) from its inputs I (n), drawing from stream s at
 * stream row `row`; scratch has row_scratch_bytes(n) bytes. */
static inline void FN(sample_row)(const LAYER *L, const REAL *I, REAL *x,
                                  const rbm_stream *s, uint32_t row,
                                  void *scratch) {
    if (L->kind == RBM_GAUSSIAN)
        FN(sample_row_gaussian)(L, I, x, s, row, scratch);
    else
        FN(sample_row_discrete)(L, I, x, s, row, scratch);
}

/* Conditional mean (what = 0), variance (1) or mode (2) of one row. */
static inline void FN(moment_row)(const LAYER *L, const REAL *I, REAL *out,
                                  int what) {
    const REAL *theta = L->p[0], *gamma = L->p[1];
    int n = L->n;
    if (L->kind == RBM_GAUSSIAN) {
        for (int j = 0; j < n; j++)
            out[j] = what == 1 ? 1 / gamma[j] : (theta[j] + I[j]) / gamma[j];
        return;
    }
    int spin = L->kind == RBM_SPIN;
    if (what == 2) {
        for (int j = 0; j < n; j++) {
            REAL x = theta[j] + I[j];
            if (spin)
                out[j] = x >= 0 ? 1 : -1;
            else
                out[j] = x > 0 ? 1 : 0;
        }
        return;
    }
    /* Binary: p = sigmoid(x); Spin: tanh(x) = 2 sigmoid(2 x) - 1. */
    FN(sigmoid_row)(n, theta, I, spin ? (REAL)2 : (REAL)1, out);
    if (what == 0 && spin) {
        for (int j = 0; j < n; j++) out[j] = 2 * out[j] - 1;
    } else if (what == 1) {
        for (int j = 0; j < n; j++)
            out[j] = spin ? 4 * out[j] * (1 - out[j]) : out[j] * (1 - out[j]);
    }
}

/* Sum over the units of one row of the cgf Gamma(theta + I), in double. */
static inline double FN(cgf_row)(const LAYER *L, const REAL *I) {
    const REAL *theta = L->p[0], *gamma = L->p[1];
    double acc = 0;
    for (int j = 0; j < L->n; j++) {
        double x = (double)theta[j] + I[j];
        if (L->kind == RBM_BINARY) {
            acc += (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
        } else if (L->kind == RBM_SPIN) {
            acc += fabs(x) + log1p(exp(-2 * fabs(x)));
        } else {
            double g = (double)gamma[j];
            acc += x * x / (2 * g) + 0.5 * log(6.283185307179586 / g);
        }
    }
    return acc;
}

/* Sum over the units of one row of the energy U(x), in double. */
static inline double FN(energy_row)(const LAYER *L, const REAL *x) {
    const REAL *theta = L->p[0], *gamma = L->p[1];
    double acc = 0;
    for (int j = 0; j < L->n; j++) {
        acc -= (double)theta[j] * x[j];
        if (L->kind == RBM_GAUSSIAN) acc += 0.5 * gamma[j] * x[j] * x[j];
    }
    return acc;
}
