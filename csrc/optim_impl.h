/* Elementwise optimiser steps, REAL-templated.  g is the gradient of the
 * loss (negative log-likelihood) before regularisation; the L2 and L1
 * penalties l2 p^2 / 2 + l1 |p| are added here.  Each returns
 * RBM_ERR_NONFINITE when an updated parameter is NaN or infinite. */

/* Adam (Kingma and Ba 2015), bias-corrected at step t >= 1:
 * p -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps). */
int FN(rbm_adam)(size_t n, REAL *p, const REAL *g, REAL *m, REAL *v,
                 double lr, double beta1, double beta2, double eps, long t,
                 double l2, double l1, int n_threads) {
    REAL step = (REAL)(lr / (1 - pow(beta1, (double)t)));
    REAL inv_bc2 = (REAL)(1 / sqrt(1 - pow(beta2, (double)t)));
    REAL b1 = (REAL)beta1, b2 = (REAL)beta2, e = (REAL)eps;
    REAL rl2 = (REAL)l2, rl1 = (REAL)l1;
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    reduction(| : bad) if (n > RBM_PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) {
        REAL pi = p[i];
        REAL gi = g[i] + rl2 * pi + rl1 * (REAL)((pi > 0) - (pi < 0));
        REAL mi = b1 * m[i] + (1 - b1) * gi;
        REAL vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        pi -= step * mi / (sqrt(vi) * inv_bc2 + e);
        p[i] = pi;
        bad |= !isfinite(pi);
    }
    return bad ? RBM_ERR_NONFINITE : RBM_OK;
}

/* SGD with optional heavy-ball momentum (buf may be NULL when
 * momentum = 0): buf = momentum buf + g;  p -= lr buf. */
int FN(rbm_sgd)(size_t n, REAL *p, const REAL *g, REAL *buf, double lr,
                double momentum, double l2, double l1, int n_threads) {
    REAL rlr = (REAL)lr, mom = (REAL)momentum;
    REAL rl2 = (REAL)l2, rl1 = (REAL)l1;
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    reduction(| : bad) if (n > RBM_PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) {
        REAL pi = p[i];
        REAL gi = g[i] + rl2 * pi + rl1 * (REAL)((pi > 0) - (pi < 0));
        if (buf != NULL) {
            gi = mom * buf[i] + gi;
            buf[i] = gi;
        }
        pi -= rlr * gi;
        p[i] = pi;
        bad |= !isfinite(pi);
    }
    return bad ? RBM_ERR_NONFINITE : RBM_OK;
}
