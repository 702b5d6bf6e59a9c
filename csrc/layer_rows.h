/* Row-level layer functions, written once for REAL = float / double.
 *
 * Included once per precision, after f32.h or f64.h, by every kernel file
 * that samples or reduces a layer.  Units take x = theta + I, with I the
 * input from the other layer:
 *   Binary    {0,1}   U(h) = -theta h             cgf = log(1 + e^x)
 *   Spin      {-1,1}  U(s) = -theta s             cgf = log(2 cosh x)
 *   Gaussian  real    U(h) = gamma h^2/2 - theta h
 *                     cgf = x^2 / (2 gamma) + log(2 pi / gamma) / 2
 *   ReLU      h >= 0  U(h) = gamma h^2/2 - theta h
 *                     cgf = log(pi / (2 gamma)) / 2 + log erfcx(-x / sqrt(2 gamma))
 *   dReLU     real    U(h) = gamma_+ h_+^2/2 + gamma_- h_-^2/2
 *                            - theta_+ h_+ - theta_- h_-
 *                     cgf = log(e^Gamma_+ + e^Gamma_-), see relu_units.h
 * with h_+ = max(h, 0) and h_- = min(h, 0).  ReLU and dReLU units are
 * computed in double whatever REAL is.  The elementwise loops of the other
 * kinds are written so that the compiler vectorises them; with libmvec,
 * exp runs on SIMD lanes (see simd_math.h).
 */
#include "precision.h"
#include "relu_units.h"

/* p[j] = 1 / (1 + exp(-scale (theta[j] + I[j]))).  Finite inputs give
 * values in [0, 1]: exp overflows to +inf for large negative x and 1/inf is
 * 0, so no branch is needed. */
RBM_INLINE void FN(sigmoid_row)(int n, const REAL *theta, const REAL *I,
                                   REAL scale, REAL *p) {
#pragma omp simd
    for (int j = 0; j < n; j++) {
        REAL x = scale * (theta[j] + I[j]);
        p[j] = (REAL)1 / ((REAL)1 + REXP(-x));
    }
}

/* Per-row scratch: random words, then the probabilities or normal draws
 * of the row.  The words are at most four per unit (dReLU), which also
 * covers one word per unit rounded up to whole Philox blocks. */
static inline size_t FN(row_scratch_bytes)(int n) {
    size_t words = 4 * (size_t)n;
    return words * sizeof(uint32_t) + (size_t)n * sizeof(double) + 64;
}

RBM_INLINE void FN(sample_row_discrete)(const LAYER *L, const REAL *I,
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

RBM_INLINE void FN(sample_row_gaussian)(const LAYER *L, const REAL *I,
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

/* ReLU: unit j inverts its truncated-normal CDF at the 53-bit uniform
 * from words 2 j and 2 j + 1.  dReLU: unit j takes the four words of
 * Philox block j, the first pair for the position on the half-line and the
 * second pair for the side. */
static inline void FN(sample_row_relu)(const LAYER *L, const REAL *I, REAL *x,
                                       const rbm_stream *s, uint32_t row,
                                       void *scratch) {
    int n = L->n;
    uint32_t *u = (uint32_t *)scratch;
    if (L->kind == RBM_RELU) {
        const REAL *theta = L->p[0], *gamma = L->p[1];
        rbm_philox_words(s->key, s->call, row, 2 * n, u);
        for (int j = 0; j < n; j++) {
            double uniform = rbm_uniform53(u[2 * j], u[2 * j + 1]);
            double xj = (double)theta[j] + I[j];
            x[j] = (REAL)rbm_relu_sample(xj, gamma[j], uniform);
        }
        return;
    }
    const REAL *theta_plus = L->p[0], *theta_minus = L->p[1];
    const REAL *gamma_plus = L->p[2], *gamma_minus = L->p[3];
    rbm_philox_words(s->key, s->call, row, 4 * n, u);
    for (int j = 0; j < n; j++) {
        const uint32_t *w = u + 4 * (size_t)j;
        double uniform_line = rbm_uniform53(w[0], w[1]);
        double uniform_side = rbm_uniform53(w[2], w[3]);
        x[j] = (REAL)rbm_drelu_sample((double)theta_plus[j] + I[j],
                                      (double)theta_minus[j] + I[j],
                                      gamma_plus[j], gamma_minus[j],
                                      uniform_line, uniform_side);
    }
}

/* Sample one row x (n) from its inputs I (n), drawing from stream s at
 * stream row `row`; scratch has row_scratch_bytes(n) bytes. */
RBM_INLINE void FN(sample_row)(const LAYER *L, const REAL *I, REAL *x,
                                  const rbm_stream *s, uint32_t row,
                                  void *scratch) {
    if (L->kind == RBM_GAUSSIAN)
        FN(sample_row_gaussian)(L, I, x, s, row, scratch);
    else if (L->kind == RBM_RELU || L->kind == RBM_DRELU)
        FN(sample_row_relu)(L, I, x, s, row, scratch);
    else
        FN(sample_row_discrete)(L, I, x, s, row, scratch);
}

/* Conditional mean (what = 0), variance (1) or mode (2) of a ReLU or
 * dReLU row. */
static inline void FN(moment_row_relu)(const LAYER *L, const REAL *I,
                                       REAL *out, int what) {
    int n = L->n;
    if (L->kind == RBM_RELU) {
        const REAL *theta = L->p[0], *gamma = L->p[1];
        for (int j = 0; j < n; j++) {
            double x = (double)theta[j] + I[j], g = gamma[j];
            if (what == 2) {
                out[j] = (REAL)rbm_relu_mode(x, g);
            } else {
                rbm_half_line line = rbm_relu_half_line(x, g);
                out[j] = (REAL)(what == 0 ? line.mean : line.var);
            }
        }
        return;
    }
    const REAL *theta_plus = L->p[0], *theta_minus = L->p[1];
    const REAL *gamma_plus = L->p[2], *gamma_minus = L->p[3];
    for (int j = 0; j < n; j++) {
        double xp = (double)theta_plus[j] + I[j];
        double xm = (double)theta_minus[j] + I[j];
        if (what == 2) {
            out[j] = (REAL)rbm_drelu_mode(xp, xm, gamma_plus[j], gamma_minus[j]);
        } else {
            rbm_drelu_unit u = rbm_drelu(xp, xm, gamma_plus[j], gamma_minus[j]);
            out[j] = (REAL)(what == 0 ? rbm_drelu_mean(&u) : rbm_drelu_var(&u));
        }
    }
}

/* Conditional mean (what = 0), variance (1) or mode (2) of one row. */
static inline void FN(moment_row)(const LAYER *L, const REAL *I, REAL *out,
                                  int what) {
    const REAL *theta = L->p[0], *gamma = L->p[1];
    int n = L->n;
    if (L->kind == RBM_RELU || L->kind == RBM_DRELU) {
        FN(moment_row_relu)(L, I, out, what);
        return;
    }
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
        } else if (L->kind == RBM_GAUSSIAN) {
            double g = (double)gamma[j];
            acc += x * x / (2 * g) + 0.5 * log(6.283185307179586 / g);
        } else if (L->kind == RBM_RELU) {
            acc += rbm_relu_half_line(x, gamma[j]).log_z;
        } else {
            double xm = (double)L->p[1][j] + I[j];
            acc += rbm_drelu(x, xm, L->p[2][j], L->p[3][j]).log_z;
        }
    }
    return acc;
}

/* Sum over the units of one row of the energy U(x), in double.  ReLU
 * states are taken to be >= 0 (the Python layer checks them). */
static inline double FN(energy_row)(const LAYER *L, const REAL *x) {
    const REAL *theta = L->p[0], *gamma = L->p[1];
    double acc = 0;
    if (L->kind == RBM_DRELU) {
        for (int j = 0; j < L->n; j++) {
            double h = x[j];
            int plus = h >= 0;
            double field = plus ? L->p[0][j] : L->p[1][j];
            double precision = plus ? L->p[2][j] : L->p[3][j];
            acc += 0.5 * precision * h * h - field * h;
        }
        return acc;
    }
    int quadratic = L->kind == RBM_GAUSSIAN || L->kind == RBM_RELU;
    for (int j = 0; j < L->n; j++) {
        acc -= (double)theta[j] * x[j];
        if (quadratic) acc += 0.5 * gamma[j] * x[j] * x[j];
    }
    return acc;
}
