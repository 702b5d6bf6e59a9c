/* Special functions of the ReLU and dReLU layers, in double precision.
 *
 * erfcx(t) = exp(t^2) erfc(t) is not in C99 libm, so it is written here.
 * A standard normal Z conditioned on Z > alpha is described with
 * t = alpha / sqrt(2) and r = sqrt(pi) erfcx(t):
 *   P(Z > alpha)        = erfcx(t) exp(-t^2) / 2
 *   hazard phi / Q      = sqrt(2) / r
 *   E[Z - alpha]        = sqrt(2) k,            k = 1 / r - t
 *   E[(Z - alpha)^2]    = s,                    s = 1 - 2 t k
 *   Var[Z]              = s - 2 k^2 = 1 - 2 k / r
 * For t >= 2 the continued fraction of erfc gives k and s directly, without
 * the cancellation of 1 / r - t and 1 - 2 t k.  Each form of Var[Z] is used
 * where it has no cancellation: s - 2 k^2 for t > 0, 1 - 2 k / r for t <= 0.
 */
#ifndef RBMFAST_SPECIAL_H
#define RBMFAST_SPECIAL_H

#include <math.h>

#define RBM_SQRT2 1.41421356237309504880
#define RBM_SQRT1_2 0.70710678118654752440
#define RBM_SQRT_PI 1.77245385090551602730
#define RBM_LOG_SQRT_PI 0.57236494292470008707
#define RBM_LN2 0.69314718055994530942
#define RBM_PI 3.14159265358979323846

/* exp(t^2).  t^2 is split into its rounded value and the rounding error
 * (an exact fma), so the result is as accurate as exp itself: the plain
 * exp(t * t) has a relative error of up to t^2 ulp. */
static inline double rbm_exp_square(double t) {
    double square = t * t;
    double error = fma(t, t, -square);
    double e = exp(square);
    if (isinf(e)) return e; /* t^2 > 709.78 */
    return fma(e, error, e);
}

/* The term c of the continued fraction
 *   sqrt(pi) erfcx(t) = 2 t / (2 t^2 + 1 - c),
 *   c = 1*2 / (2 t^2 + 5 - 3*4 / (2 t^2 + 9 - 5*6 / (2 t^2 + 13 - ...))),
 * for t >= 2, evaluated from a fixed depth upwards.  The depth of each
 * interval of t was chosen so that the truncation error at its lower end
 * is below 1e-17 relative, compared with 40-digit values.  The error falls
 * as t grows. */
static inline double rbm_erfc_fraction_tail(double t) {
    if (t > 1e8) return (1.0 / t) / t; /* c = t^-2 (1 + O(t^-2)) */
    int depth = 6;
    if (t < 2.5)
        depth = 32;
    else if (t < 3.0)
        depth = 22;
    else if (t < 4.0)
        depth = 17;
    else if (t < 5.0)
        depth = 12;
    else if (t < 8.0)
        depth = 9;
    double base = 2.0 * t * t + 1.0;
    double f = base + 4.0 * depth;
    for (int k = depth - 1; k >= 1; k--)
        f = base + 4.0 * k - (double)(2 * k + 1) * (double)(2 * k + 2) / f;
    return 2.0 / f;
}

/* erfcx(t) = exp(t^2) erfc(t); +inf below t = -26.6, where it overflows. */
static inline double rbm_erfcx(double t) {
    if (t < 2.0) return rbm_exp_square(t) * erfc(t);
    double c = rbm_erfc_fraction_tail(t);
    double inv = 1.0 / t;
    /* 2 t / (2 t^2 + 1 - c), written in 1 / t so that it cannot overflow */
    return inv / (RBM_SQRT_PI * (1.0 + 0.5 * (1.0 - c) * inv * inv));
}

/* Terms of a standard normal Z conditioned on Z > sqrt(2) t, see the file
 * comment; finite for every finite t. */
typedef struct {
    double log_erfcx; /* log erfcx(t) */
    double inv_r;     /* 1 / (sqrt(pi) erfcx(t)); 0 where erfcx overflows */
    double k;         /* inv_r - t */
    double s;         /* 1 - 2 t k */
} rbm_tail_terms;

static inline rbm_tail_terms rbm_tail(double t) {
    rbm_tail_terms a;
    if (t < 0.0) {
        double e = erfc(t); /* in (1, 2), accurate */
        a.log_erfcx = t * t + log(e);
        a.inv_r = 1.0 / (RBM_SQRT_PI * rbm_exp_square(t) * e);
        a.k = a.inv_r - t;
        a.s = 1.0 - 2.0 * t * a.k;
    } else if (t < 2.0) {
        double value = rbm_exp_square(t) * erfc(t);
        a.log_erfcx = log(value);
        a.inv_r = 1.0 / (RBM_SQRT_PI * value);
        a.k = a.inv_r - t; /* loses at most a factor 10 of accuracy here */
        a.s = 1.0 - 2.0 * t * a.k;
    } else {
        /* 1 / r = (2 t^2 + 1 - c) / (2 t) = t + k with k = (1 - c) / (2 t),
         * and s = 1 - 2 t k = c */
        double c = rbm_erfc_fraction_tail(t);
        a.k = 0.5 * (1.0 - c) / t;
        a.inv_r = t + a.k;
        a.log_erfcx = -log(a.inv_r) - RBM_LOG_SQRT_PI;
        a.s = c;
    }
    return a;
}

/* Var[Z] for Z > sqrt(2) t, from the terms at t. */
static inline double rbm_tail_variance(double t, rbm_tail_terms a) {
    return t > 0.0 ? a.s - 2.0 * a.k * a.k : 1.0 - 2.0 * a.k * a.inv_r;
}

/* Halley step for a root of g, from g and its first two derivatives;
 * Newton's step where Halley's denominator is not positive. */
static inline double rbm_halley_step(double g, double g1, double g2) {
    double denominator = 2.0 * g1 * g1 - g * g2;
    return denominator > 0.0 ? 2.0 * g * g1 / denominator : g / g1;
}

/* Starting value of z >= 0 with log P(Z > z) = log_q <= log(1/2), from the
 * rational approximation 26.2.23 of Abramowitz and Stegun (absolute error
 * below 4.5e-4). */
static inline double rbm_normal_isf_guess(double log_q) {
    double w = sqrt(-2.0 * log_q);
    double z = w - (2.515517 + w * (0.802853 + w * 0.010328)) /
                       (1.0 + w * (1.432788 + w * (0.189269 + w * 0.001308)));
    return z > 0.0 ? z : 0.0;
}

/* z >= 0 with log P(Z > z) = log_q for a standard normal Z, log_q in
 * [-40, log(1/2)]: the guess refined by Halley's method on the log tail,
 * whose slope -hazard(z) is at most -0.79 there. */
static inline double rbm_normal_isf_log(double log_q) {
    double z = rbm_normal_isf_guess(log_q);
    for (int iteration = 0; iteration < 20; iteration++) {
        double t = z * RBM_SQRT1_2;
        rbm_tail_terms b = rbm_tail(t);
        double g = b.log_erfcx - t * t - RBM_LN2 - log_q;
        double step = rbm_halley_step(g, -RBM_SQRT2 * b.inv_r, -2.0 * b.inv_r * b.k);
        double next = z - step;
        if (next < 0.0) next = 0.0;
        /* after a step below 1e-9 Halley's error is far below 1 ulp */
        int done = fabs(next - z) <= 1e-9;
        z = next;
        if (done) break;
    }
    return z;
}

/* Draw Z - alpha for a standard normal Z conditioned on Z > alpha, by
 * inverting the conditional upper tail at uniform in (0, 1]:
 *   P(Z > alpha + d) = uniform P(Z > alpha).
 * alpha < 0: the target tail mass q is at least uniform / 2, so z is found
 * from q or, when q > 1/2, as -z' from the lower mass
 * 1 - q = P(Z < alpha) + (1 - uniform) P(Z > alpha), which has no
 * cancellation.  alpha >= 0: Halley's method on
 *   log P(Z > alpha + d) - log P(Z > alpha) - log(uniform) = 0,
 * with the difference of the logs formed without the cancellation of the
 * alpha^2 / 2 terms, so d stays accurate deep in the tail, where it is of
 * order 1 / alpha.  The result is a function of (alpha, uniform) only. */
static inline double rbm_truncated_normal_excess(double alpha, double uniform) {
    double log_u = log(uniform);
    if (log_u == 0.0) return 0.0;
    double t0 = alpha * RBM_SQRT1_2;
    if (alpha < 0.0) {
        double lower = 0.5 * erfc(-t0); /* P(Z < alpha) */
        double log_q = log_u + log1p(-lower);
        if (log_q <= -RBM_LN2) return rbm_normal_isf_log(log_q) - alpha;
        /* uniform > 1/2 here, so 1 - uniform is exact */
        double log_p = log(lower + (1.0 - uniform) * (1.0 - lower));
        double d = -rbm_normal_isf_log(log_p) - alpha;
        return d > 0.0 ? d : 0.0;
    }

    rbm_tail_terms a = rbm_tail(t0);
    double hazard = RBM_SQRT2 * a.inv_r;
    double d;
    if (alpha >= 3.0) {
        /* root of the second-order Taylor expansion of the log tail,
         * -hazard d - hazard (hazard - alpha) d^2 / 2 = log_u */
        double curvature = 2.0 * a.inv_r * a.k;
        d = -2.0 * log_u /
            (hazard + sqrt(hazard * hazard - 2.0 * curvature * log_u));
    } else {
        double log_q0 = a.log_erfcx - t0 * t0 - RBM_LN2;
        d = rbm_normal_isf_guess(log_u + log_q0) - alpha;
        /* the tangent root -log_u / hazard is never below the solution,
         * because the log tail is concave */
        if (!(d > 0.0)) d = -log_u / hazard;
    }
    for (int iteration = 0; iteration < 20; iteration++) {
        double z = alpha + d, t = z * RBM_SQRT1_2;
        rbm_tail_terms b = rbm_tail(t);
        double g = b.log_erfcx - a.log_erfcx - d * (alpha + 0.5 * d) - log_u;
        double step = rbm_halley_step(g, -RBM_SQRT2 * b.inv_r, -2.0 * b.inv_r * b.k);
        double next = d - step;
        if (!(next > 0.0)) next = 0.5 * d;
        /* after a relative step below 1e-9 Halley's error is far below
         * 1 ulp */
        int done = fabs(next - d) <= 1e-9 * next;
        d = next;
        if (done) break;
    }
    return d;
}

#endif
