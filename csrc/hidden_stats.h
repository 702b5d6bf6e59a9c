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

/* Hidden moments of columns [j0, j1): H[b, j] = c_b E[h_j | I_b], stats. */
static void FN(hidden_stats_block)(const LAYER *L, int B, const REAL *I,
                                   const REAL *c, REAL *H, double *stats,
                                   int j0, int j1) {
    int M = L->n, n = j1 - j0;
    const REAL *theta = L->p[0] + j0, *gamma = L->p[1];
    double *st0 = stats + j0, *st1 = stats + M + j0;
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
