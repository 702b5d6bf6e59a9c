/* Likelihood-gradient accumulation for one phase (data or chains),
 * REAL-templated.
 *
 * With c_b the coefficient of row b (data: -w_b / sum w; chains: +1 / n),
 * the gradient of the negative log-likelihood is the sum of the two phases
 * of
 *   dW[i, mu]  = sum_b c_b x[b, i] E[h_mu | x_b]
 *   stats[p]   = sum_b c_b s_p(b),   s_p = -dU/dp of the unit,
 * evaluated at the states (visible) or as conditional expectations given
 * the inputs (hidden): s_theta = x, and for Gaussian units s_gamma = -x^2/2
 * (hidden: -(E[h]^2 + Var[h]) / 2); ReLU and dReLU units are listed in
 * hidden_stats.h.  stats has a row of n units per parameter vector.  Sums
 * over rows run over fixed column blocks, each in row order, so they are
 * the same for every number of threads.
 */

/* Visible statistics of columns [j0, j1) from states X (B x N, ldx).
 * dReLU units split the state into h_+ and h_- (rows theta_+, theta_-,
 * gamma_+, gamma_-), the other kinds have rows theta and gamma. */
static void FN(visible_stats_block)(const LAYER *L, int B, const REAL *X,
                                    int ldx, const REAL *c, double *stats,
                                    int j0, int j1) {
    int N = L->n;
    int quadratic = L->kind == RBM_GAUSSIAN || L->kind == RBM_RELU;
    for (int b = 0; b < B; b++) {
        const REAL *Xb = X + (size_t)b * ldx;
        double cb = (double)c[b];
        for (int j = j0; j < j1; j++) {
            double x = Xb[j];
            if (L->kind == RBM_DRELU) {
                size_t side = x >= 0 ? 0 : (size_t)N;
                stats[side + j] += cb * x;
                stats[2 * (size_t)N + side + j] -= cb * 0.5 * x * x;
                continue;
            }
            stats[j] += cb * x;
            if (quadratic) stats[N + j] -= cb * 0.5 * x * x;
        }
    }
}

/* Add one phase to the gradient.
 *   X          in, B x N states (ldx), c in, B row coefficients
 *   Ih, H      scratch, B x M: inputs X W, then c_b E[h | X_b]
 *   dW         in/out, N x M; overwritten when accumulate = 0
 *   stats_v    in/out, R x N;  stats_h in/out, R x M (always accumulated),
 *              one row per parameter vector of the layer, at least 2
 *   gemm       single-threaded BLAS gemm, called inside the OpenMP region
 * The products run on fixed tiles (rbm_column_chunk): batch rows by hidden
 * columns for I = X W, chunks of visible units for dW += X^T H.
 */
RBM_MULTIVERSION
int FN(rbm_phase_gradient)(const LAYER *vis, const LAYER *hid, const REAL *W,
                           int B, const REAL *X, int ldx, const REAL *c,
                           REAL *Ih, REAL *H, REAL *dW, int accumulate,
                           double *stats_v, double *stats_h, GEMM_T gemm,
                           int n_threads) {
    int N = vis->n, M = hid->n, status;
    if ((status = FN(rbm_layer_check)(vis)) != RBM_OK) return status;
    if ((status = FN(rbm_layer_check)(hid)) != RBM_OK) return status;
    int wh = rbm_column_chunk(M), wv = rbm_column_chunk(N);
    int n_hchunks = (M + wh - 1) / wh, n_vchunks = (N + wv - 1) / wv;
    int n_row_tiles = (B + RBM_ROW_TILE - 1) / RBM_ROW_TILE;
    int n_hblocks = (M + RBM_COLUMN_BLOCK - 1) / RBM_COLUMN_BLOCK;
    int n_vblocks = (N + RBM_COLUMN_BLOCK - 1) / RBM_COLUMN_BLOCK;
    REAL beta = accumulate ? 1 : 0;

#pragma omp parallel num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * N * M > RBM_PARALLEL_MIN_WORK)
    {
#pragma omp for schedule(static)
        for (int t = 0; t < n_row_tiles * n_hchunks; t++)
            FN(gemm_xw_tile)(gemm, t, n_hchunks, wh, B, N, M, X, ldx, W, M, Ih, M);
#pragma omp for schedule(static) nowait
        for (int k = 0; k < n_hblocks; k++) {
            int j0 = k * RBM_COLUMN_BLOCK;
            int j1 = j0 + RBM_COLUMN_BLOCK < M ? j0 + RBM_COLUMN_BLOCK : M;
            FN(hidden_stats_block)(hid, B, Ih, c, H, stats_h, j0, j1);
        }
#pragma omp for schedule(static)
        for (int k = 0; k < n_vblocks; k++) {
            int j0 = k * RBM_COLUMN_BLOCK;
            int j1 = j0 + RBM_COLUMN_BLOCK < N ? j0 + RBM_COLUMN_BLOCK : N;
            FN(visible_stats_block)(vis, B, X, ldx, c, stats_v, j0, j1);
        }
#pragma omp for schedule(static)
        for (int k = 0; k < n_vchunks; k++) {
            /* rows [i0, i0 + n) of dW; the sum over the batch stays inside
             * one gemm call */
            int i0 = k * wv, n = i0 + wv < N ? wv : N - i0;
            FN(gemm_xth)(gemm, B, n, M, 1, X + i0, ldx, H, M, beta,
                         dW + (size_t)i0 * M, M);
        }
    }
    return RBM_OK;
}

/* F(x_b) = U_v(x_b) - sum_mu Gamma_mu(I_mu(x_b)) for B rows; Ih scratch;
 * gemm is single-threaded, called inside the OpenMP region. */
RBM_MULTIVERSION
int FN(rbm_free_energy)(const LAYER *vis, const LAYER *hid, const REAL *W,
                        int B, const REAL *X, int ldx, REAL *Ih, double *out,
                        GEMM_T gemm, int n_threads) {
    int N = vis->n, M = hid->n, status;
    if ((status = FN(rbm_layer_check)(vis)) != RBM_OK) return status;
    if ((status = FN(rbm_layer_check)(hid)) != RBM_OK) return status;
    int wh = rbm_column_chunk(M), n_hchunks = (M + wh - 1) / wh;
    int n_row_tiles = (B + RBM_ROW_TILE - 1) / RBM_ROW_TILE;
#pragma omp parallel num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * N * M > RBM_PARALLEL_MIN_WORK)
    {
#pragma omp for schedule(static)
        for (int t = 0; t < n_row_tiles * n_hchunks; t++)
            FN(gemm_xw_tile)(gemm, t, n_hchunks, wh, B, N, M, X, ldx, W, M, Ih, M);
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++)
            out[b] = FN(energy_row)(vis, X + (size_t)b * ldx) -
                     FN(cgf_row)(hid, Ih + (size_t)b * M);
    }
    return RBM_OK;
}
