/* Hidden-layer gradient statistics over a column block, REAL-templated.
 *
 * Included after layer_rows.h by every kernel that accumulates a phase of
 * the likelihood gradient (dense and Potts visible layers alike).  With c_b
 * the coefficient of row b, a block of columns [j0, j1) receives
 *   H[b, j]         = c_b E[h_j | I_b]
 *   stats[p * M + j] += sum_b c_b E[s_p(h_j) | I_b],   s_p = -dU/dp,
 * one row of M units per parameter vector of the layer, summed in row order.
 */
#include "precision.h"

/* ReLU and dReLU columns [j0, j1).  ReLU rows: theta E[h], gamma
 * -E[h^2]/2.  dReLU rows: theta_+ E[h_+], theta_- E[h_-], gamma_+
 * -E[h_+^2]/2, gamma_- -E[h_-^2]/2. */
static void FN(hidden_stats_block_relu)(const LAYER *L, int B, const REAL *I,
                                        const REAL *c, REAL *H, double *stats,
                                        int j0, int j1) {
    int M = L->n;
    double *st[4];
    for (int p = 0; p < 4; p++) st[p] = stats + (size_t)p * M;
    for (int b = 0; b < B; b++) {
        const REAL *Ib = I + (size_t)b * M;
        REAL *Hb = H + (size_t)b * M;
        double cb = c[b];
        for (int j = j0; j < j1; j++) {
            double x = (double)L->p[0][j] + Ib[j];
            if (L->kind == RBM_RELU) {
                rbm_half_line line = rbm_relu_half_line(x, L->p[1][j]);
                Hb[j] = (REAL)(cb * line.mean);
                st[0][j] += cb * line.mean;
                st[1][j] -= cb * 0.5 * line.second;
                continue;
            }
            double xm = (double)L->p[1][j] + Ib[j];
            rbm_drelu_unit u = rbm_drelu(x, xm, L->p[2][j], L->p[3][j]);
            double mean_plus = u.p_plus * u.plus.mean;
            double mean_minus = -u.p_minus * u.minus.mean;
            Hb[j] = (REAL)(cb * (mean_plus + mean_minus));
            st[0][j] += cb * mean_plus;
            st[1][j] += cb * mean_minus;
            st[2][j] -= cb * 0.5 * u.p_plus * u.plus.second;
            st[3][j] -= cb * 0.5 * u.p_minus * u.minus.second;
        }
    }
}

/* Hidden moments of columns [j0, j1): H[b, j] = c_b E[h_j | I_b], stats. */
RBM_INLINE void FN(hidden_stats_block)(const LAYER *L, int B, const REAL *I,
                                   const REAL *c, REAL *H, double *stats,
                                   int j0, int j1) {
    int M = L->n, n = j1 - j0;
    const REAL *theta = L->p[0] + j0, *gamma = L->p[1];
    double *st0 = stats + j0, *st1 = stats + M + j0;
    if (L->kind == RBM_RELU || L->kind == RBM_DRELU) {
        FN(hidden_stats_block_relu)(L, B, I, c, H, stats, j0, j1);
        return;
    }
    for (int b = 0; b < B; b++) {
        const REAL *Ib = I + (size_t)b * M + j0;
        REAL *Hb = H + (size_t)b * M + j0;
        REAL cb = c[b];
        if (L->kind == RBM_GAUSSIAN) {
            const REAL *g = gamma + j0;
            for (int j = 0; j < n; j++) {
                double mu = ((double)theta[j] + Ib[j]) / g[j];
                Hb[j] = (REAL)(cb * mu);
                st0[j] += cb * mu;
                st1[j] -= cb * 0.5 * (mu * mu + 1.0 / g[j]);
            }
            continue;
        }
        int spin = L->kind == RBM_SPIN;
        /* Hb receives sigmoid(x) (Binary) or sigmoid(2 x) (Spin) first */
        FN(sigmoid_row)(n, theta, Ib, spin ? (REAL)2 : (REAL)1, Hb);
        for (int j = 0; j < n; j++) {
            REAL mu = spin ? 2 * Hb[j] - 1 : Hb[j];
            st0[j] += (double)cb * mu;
            Hb[j] = cb * mu;
        }
    }
}
