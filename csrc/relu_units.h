/* ReLU and dReLU units in double precision, built on special.h.
 *
 * A ReLU unit h >= 0 with input x = theta + I has the weight
 * exp(x h - gamma h^2 / 2).  With sigma = 1 / sqrt(gamma), h is
 * sigma (Z - alpha) for a standard normal Z conditioned on
 * Z > alpha = -x sigma, so with t = alpha / sqrt(2) = -x / sqrt(2 gamma)
 *   Gamma(x) = log(pi / (2 gamma)) / 2 + log erfcx(t)
 *   E[h] = sqrt(2) sigma k,  E[h^2] = sigma^2 s,  Var[h] = sigma^2 Var[Z].
 * A dReLU unit is real, with a ReLU half-line (x_+ = theta_+ + I, gamma_+)
 * for h >= 0 and one for -h >= 0 with input -x_- (x_- = theta_- + I,
 * gamma_-).  The cgf is log(e^Gamma_+ + e^Gamma_-), and h lies on the
 * positive side with probability p_+ = 1 / (1 + e^(Gamma_- - Gamma_+)).
 * NOTE: the results are accurate for |x| / sqrt(gamma) up to about 1e150.
 * Beyond it t^2 overflows: the cgf becomes +inf for large positive x, and
 * samples are 0 for large negative x instead of about 1 / |x|.
 */
#ifndef RBMFAST_RELU_UNITS_H
#define RBMFAST_RELU_UNITS_H

#include "special.h"

/* A ReLU half-line: log of its integral (the ReLU cgf) and the moments of
 * h >= 0 under its normalised weight. */
typedef struct {
    double log_z;
    double mean;   /* E[h] */
    double second; /* E[h^2] */
    double var;    /* Var[h] */
} rbm_half_line;

static inline rbm_half_line rbm_relu_half_line(double x, double gamma) {
    double sigma = 1.0 / sqrt(gamma);
    double t = -x * sigma * RBM_SQRT1_2;
    rbm_tail_terms a = rbm_tail(t);
    rbm_half_line line;
    line.log_z = 0.5 * log(RBM_PI / (2.0 * gamma)) + a.log_erfcx;
    line.mean = RBM_SQRT2 * sigma * a.k;
    line.second = a.s / gamma;
    line.var = rbm_tail_variance(t, a) / gamma;
    return line;
}

/* Draw h of a ReLU unit from one uniform in (0, 1] by inverse CDF. */
static inline double rbm_relu_sample(double x, double gamma, double uniform) {
    double sigma = 1.0 / sqrt(gamma);
    return sigma * rbm_truncated_normal_excess(-x * sigma, uniform);
}

static inline double rbm_relu_mode(double x, double gamma) {
    return x > 0.0 ? x / gamma : 0.0;
}

/* A dReLU unit: the two half-lines (minus describes -h) and p_+, p_-. */
typedef struct {
    rbm_half_line plus, minus;
    double p_plus, p_minus;
    double log_z; /* the cgf */
} rbm_drelu_unit;

static inline rbm_drelu_unit rbm_drelu(double x_plus, double x_minus,
                                       double gamma_plus, double gamma_minus) {
    rbm_drelu_unit u;
    u.plus = rbm_relu_half_line(x_plus, gamma_plus);
    u.minus = rbm_relu_half_line(-x_minus, gamma_minus);
    double diff = u.minus.log_z - u.plus.log_z;
    u.p_plus = 1.0 / (1.0 + exp(diff));
    u.p_minus = 1.0 / (1.0 + exp(-diff));
    double top = diff > 0.0 ? u.minus.log_z : u.plus.log_z;
    u.log_z = top + log1p(exp(-fabs(diff)));
    return u;
}

static inline double rbm_drelu_mean(const rbm_drelu_unit *u) {
    return u->p_plus * u->plus.mean - u->p_minus * u->minus.mean;
}

/* Var[h] = E[Var[h | side]] + Var[E[h | side]]: a sum of non-negative
 * terms, so it has no cancellation. */
static inline double rbm_drelu_var(const rbm_drelu_unit *u) {
    double gap = u->plus.mean + u->minus.mean; /* E[h | +] - E[h | -] */
    return u->p_plus * u->plus.var + u->p_minus * u->minus.var +
           u->p_plus * u->p_minus * gap * gap;
}

/* Draw h of a dReLU unit: uniform_side <= p_+ picks h >= 0, then
 * uniform_line draws h on that half-line by inverse CDF. */
static inline double rbm_drelu_sample(double x_plus, double x_minus,
                                      double gamma_plus, double gamma_minus,
                                      double uniform_line, double uniform_side) {
    rbm_drelu_unit u = rbm_drelu(x_plus, x_minus, gamma_plus, gamma_minus);
    if (uniform_side <= u.p_plus)
        return rbm_relu_sample(x_plus, gamma_plus, uniform_line);
    return -rbm_relu_sample(-x_minus, gamma_minus, uniform_line);
}

/* The maximum of x_+ h - gamma_+ h^2 / 2 (h >= 0) and x_- h - gamma_- h^2
 * / 2 (h < 0); h = 0 when neither side has an interior maximum, and the
 * positive side on a tie. */
static inline double rbm_drelu_mode(double x_plus, double x_minus,
                                    double gamma_plus, double gamma_minus) {
    double gain_plus = x_plus > 0.0 ? 0.5 * x_plus * x_plus / gamma_plus : 0.0;
    double gain_minus = x_minus < 0.0 ? 0.5 * x_minus * x_minus / gamma_minus : 0.0;
    if (gain_plus >= gain_minus) return rbm_relu_mode(x_plus, gamma_plus);
    return x_minus / gamma_minus;
}

#endif
