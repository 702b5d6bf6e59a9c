/* Kernels of RBMs with a Potts visible layer (see potts.h), REAL-templated.
 *
 * Included after layer_rows.h, gemm_rows.h, gibbs_rows.h and
 * hidden_stats.h, with POTTS naming the precision's Potts struct.
 * Every row is produced by one thread from its own stream row.  Every sum
 * over the batch (weight and field gradients) belongs to one thread per
 * site or per hidden column block and runs in row order.  So results do not
 * depend on the number of threads.
 */

static int FN(potts_check)(const POTTS *V) {
    if (V->n < 1 || V->q < 1 || V->q > 256 || V->theta == NULL)
        return RBM_ERR_ARG;
    return RBM_OK;
}

/* Ih (B x M) = sum_i W[i q + v[b, i], :], the hidden inputs of row b. */
static inline void FN(potts_gather_row)(const POTTS *V, int M, const REAL *W,
                                        const uint8_t *vb, REAL *out) {
    int q = V->q;
    for (int j = 0; j < M; j++) out[j] = 0;
    for (int i = 0; i < V->n; i++) {
        const REAL *w = W + ((size_t)i * q + vb[i]) * M;
#pragma omp simd
        for (int j = 0; j < M; j++) out[j] += w[j];
    }
}

/* e[i q + a] = exp(x - max_a x) with x = theta[i, a] + I[i q + a]; m[i]
 * receives the site maxima.  The exponentials run over the whole row at
 * once so that they vectorise across sites. */
static inline void FN(potts_exp_row)(const POTTS *V, const REAL *I, REAL *e,
                                     REAL *m) {
    int n = V->n, q = V->q;
    size_t nq = (size_t)n * q;
    const REAL *theta = V->theta;
    for (int i = 0; i < n; i++) {
        const REAL *t = theta + (size_t)i * q, *Ii = I + (size_t)i * q;
        REAL *ei = e + (size_t)i * q;
        REAL top = t[0] + Ii[0];
        for (int a = 0; a < q; a++) {
            ei[a] = t[a] + Ii[a];
            top = ei[a] > top ? ei[a] : top;
        }
        for (int a = 0; a < q; a++) ei[a] -= top;
        m[i] = top;
    }
#pragma omp simd
    for (size_t j = 0; j < nq; j++) e[j] = REXP(e[j]);
}

/* Scratch of one Potts row: n random words, n q exponentials and five
 * vectors of n sites (maxima, totals, targets, partial sums, states). */
static inline size_t FN(potts_scratch_bytes)(const POTTS *V) {
    size_t words = ((size_t)V->n + 3) / 4 * 4;
    return words * sizeof(uint32_t) +
           ((size_t)V->n * V->q + 5 * (size_t)V->n) * sizeof(REAL) + 64;
}

/* Draw the state of every site of one row by inverse CDF, one uniform per
 * site: the first state whose cumulative weight exceeds u times the total.
 * E (n q) contains theta + I state-major, E[a n + i] for state a of site i,
 * so that every step is a loop over sites that vectorises.  E is
 * overwritten. */
RBM_INLINE void FN(potts_sample_major)(int n, int q, REAL *E, uint8_t *vb,
                                       const rbm_stream *s, uint32_t row,
                                       uint32_t *u, REAL *work) {
    REAL *top = work, *total = top + n, *target = total + n;
    REAL *cum = target + n, *state = cum + n;
    rbm_philox_words(s->key, s->call, row, n, u);
    for (int i = 0; i < n; i++) top[i] = E[i];
    for (int a = 1; a < q; a++) {
        const REAL *Ea = E + (size_t)a * n;
#pragma omp simd
        for (int i = 0; i < n; i++) top[i] = Ea[i] > top[i] ? Ea[i] : top[i];
    }
    for (int i = 0; i < n; i++) total[i] = 0;
    for (int a = 0; a < q; a++) {
        REAL *Ea = E + (size_t)a * n;
#pragma omp simd
        for (int i = 0; i < n; i++) {
            Ea[i] = REXP(Ea[i] - top[i]);
            total[i] += Ea[i];
        }
    }
    /* uniform on [0, 1): 24 bits in float, where they are exact, and 32
     * in double; the maximum state has weight 1, so total >= 1 */
    int shift = sizeof(REAL) == sizeof(float) ? 8 : 0;
    REAL unit = sizeof(REAL) == sizeof(float) ? (REAL)(1.0 / 16777216.0)
                                              : (REAL)(1.0 / 4294967296.0);
#pragma omp simd
    for (int i = 0; i < n; i++) {
        REAL ui = (REAL)(int64_t)(u[i] >> shift) * unit;
        target[i] = ui * total[i];
        cum[i] = 0;
        state[i] = 0;
    }
    /* state = number of states whose partial sum is <= target: the first
     * state whose partial sum exceeds it */
    for (int a = 0; a < q - 1; a++) {
        const REAL *Ea = E + (size_t)a * n;
#pragma omp simd
        for (int i = 0; i < n; i++) {
            cum[i] += Ea[i];
            state[i] += cum[i] <= target[i] ? (REAL)1 : (REAL)0;
        }
    }
    /* rounding can leave the target at the total, which counts every
     * state: step back to the last state of positive weight */
    for (int i = 0; i < n; i++) {
        int k = (int)state[i];
        while (k > 0 && E[(size_t)k * n + i] == 0) k--;
        vb[i] = (uint8_t)k;
    }
}

/* Sample one row from inputs I in the site-major layout of the API. */
RBM_INLINE void FN(potts_sample_row)(const POTTS *V, const REAL *I, uint8_t *vb,
                                     const rbm_stream *s, uint32_t row,
                                     void *scratch) {
    int n = V->n, q = V->q;
    uint32_t *u = (uint32_t *)scratch;
    REAL *E = (REAL *)(u + ((size_t)n + 3) / 4 * 4);
    for (int a = 0; a < q; a++)
        for (int i = 0; i < n; i++)
            E[(size_t)a * n + i] = V->theta[(size_t)i * q + a] + I[(size_t)i * q + a];
    FN(potts_sample_major)(n, q, E, vb, s, row, u, E + (size_t)n * q);
}

/* WtT (M x n q) = W^T with the visible axis reordered state-major (column
 * a n + i is W[i q + a, :]), and thetaT (n q) the fields in that order:
 * visible inputs computed with WtT come out state-major. */
static void FN(potts_transpose)(const POTTS *V, int M, const REAL *W, REAL *WtT,
                                REAL *thetaT, int n_threads) {
    int n = V->n, q = V->q;
    size_t N = (size_t)n * q;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if (N * M > RBM_PARALLEL_MIN_WORK)
    for (int i = 0; i < n; i++)
        for (int a = 0; a < q; a++) {
            const REAL *w = W + ((size_t)i * q + a) * M;
            size_t col = (size_t)a * n + i;
            for (int j = 0; j < M; j++) WtT[(size_t)j * N + col] = w[j];
            thetaT[col] = V->theta[(size_t)i * q + a];
        }
}

int FN(rbm_potts_inputs_h)(const POTTS *V, int M, const REAL *W, int B,
                           const uint8_t *v, int ldv, REAL *Ih,
                           int n_threads) {
    if (FN(potts_check)(V) != RBM_OK || M < 1) return RBM_ERR_ARG;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * V->n * M > RBM_PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++)
        FN(potts_gather_row)(V, M, W, v + (size_t)b * ldv, Ih + (size_t)b * M);
    return RBM_OK;
}

RBM_MULTIVERSION
int FN(rbm_potts_sample)(const POTTS *V, int B, const REAL *Iv, uint8_t *v,
                         int ldv, const rbm_stream *s, uint32_t row0,
                         int n_threads) {
    if (FN(potts_check)(V) != RBM_OK) return RBM_ERR_ARG;
    size_t nq = (size_t)V->n * V->q, bytes = FN(potts_scratch_bytes)(V);
    int failed = 0;
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if ((size_t)B * nq > RBM_PARALLEL_MIN_WORK)
    {
        void *scratch = malloc(bytes);
        failed = scratch == NULL;
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++)
            if (scratch != NULL)
                FN(potts_sample_row)(V, Iv + (size_t)b * nq, v + (size_t)b * ldv,
                                     s, row0 + (uint32_t)b, scratch);
        free(scratch);
    }
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}

/* p (B x n q) = softmax over the states of each site. */
RBM_MULTIVERSION
int FN(rbm_potts_probabilities)(const POTTS *V, int B, const REAL *Iv, REAL *p,
                                int n_threads) {
    if (FN(potts_check)(V) != RBM_OK) return RBM_ERR_ARG;
    int n = V->n, q = V->q;
    size_t nq = (size_t)n * q;
    int failed = 0;
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if ((size_t)B * nq > RBM_PARALLEL_MIN_WORK)
    {
        REAL *m = (REAL *)malloc((size_t)n * sizeof(REAL));
        failed = m == NULL;
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            if (m == NULL) continue;
            REAL *pb = p + (size_t)b * nq;
            FN(potts_exp_row)(V, Iv + (size_t)b * nq, pb, m);
            for (int i = 0; i < n; i++) {
                REAL *pi = pb + (size_t)i * q;
                double total = 0;
                for (int a = 0; a < q; a++) total += pi[a];
                for (int a = 0; a < q; a++) pi[a] = (REAL)(pi[a] / total);
            }
        }
        free(m);
    }
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}

/* out[b] = sum_i log sum_a exp(theta[i, a] + Iv[b, i q + a]), in double. */
int FN(rbm_potts_cgf)(const POTTS *V, int B, const REAL *Iv, double *out,
                      int n_threads) {
    if (FN(potts_check)(V) != RBM_OK) return RBM_ERR_ARG;
    int n = V->n, q = V->q;
    size_t nq = (size_t)n * q;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * nq > RBM_PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++) {
        const REAL *Ib = Iv + (size_t)b * nq;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            const REAL *t = V->theta + (size_t)i * q, *Ii = Ib + (size_t)i * q;
            double top = (double)t[0] + Ii[0], sum = 0;
            for (int a = 1; a < q; a++) {
                double x = (double)t[a] + Ii[a];
                top = x > top ? x : top;
            }
            for (int a = 0; a < q; a++) sum += exp((double)t[a] + Ii[a] - top);
            acc += top + log(sum);
        }
        out[b] = acc;
    }
    return RBM_OK;
}

/* Run n_steps sweeps on B chains with Potts visible states v (B x n, ld n).
 *   W          in, (n q) x M weights
 *   h          out, B x M hidden states of the last sweep
 *   Ih, Iv     scratch, B x M and B x (n q) (Iv state-major on return)
 *   s, row0    stream: sweep t draws the hidden units from call s->call +
 *              2 t and the visible states from s->call + 2 t + 1
 *   clamp_*    hidden units held fixed after each hidden sampling step, as
 *              in rbm_gibbs
 *   gemm       single-threaded BLAS gemm, called inside the OpenMP region
 * The hidden inputs are gathered and the hidden units sampled in the same
 * pass over a row.  The visible inputs are one product h W^T on fixed tiles.
 */
RBM_MULTIVERSION
int FN(rbm_potts_gibbs)(const POTTS *V, const LAYER *hid, const REAL *W, int B,
                        uint8_t *v, REAL *h, REAL *Ih, REAL *Iv, int n_steps,
                        const rbm_stream *s, uint32_t row0, int n_clamp,
                        const int *clamp_idx, const REAL *clamp_val,
                        int clamp_ld, GEMM_T gemm, int n_threads) {
    int status;
    if (FN(potts_check)(V) != RBM_OK) return RBM_ERR_ARG;
    if ((status = FN(rbm_layer_check)(hid)) != RBM_OK) return status;
    int n = V->n, N = n * V->q, M = hid->n;
    for (int c = 0; c < n_clamp; c++)
        if (clamp_idx[c] < 0 || clamp_idx[c] >= M) return RBM_ERR_ARG;
    REAL *Wt = (REAL *)malloc(((size_t)N * M + N) * sizeof(REAL));
    if (Wt == NULL) return RBM_ERR_ALLOC;
    REAL *thetaT = Wt + (size_t)N * M;
    FN(potts_transpose)(V, M, W, Wt, thetaT, n_threads);

    int wv = rbm_column_chunk(N), n_vchunks = (N + wv - 1) / wv;
    int n_row_tiles = (B + RBM_ROW_TILE - 1) / RBM_ROW_TILE;
    size_t bytes_h = FN(row_scratch_bytes)(M), bytes_v = FN(potts_scratch_bytes)(V);
    size_t bytes = bytes_h > bytes_v ? bytes_h : bytes_v;
    int failed = 0;
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if ((size_t)B * N * M > RBM_PARALLEL_MIN_WORK)
    {
        void *scratch = malloc(bytes);
        failed = scratch == NULL;
        /* every thread runs every worksharing loop; a failed malloc only
         * skips this thread's rows */
        for (int step = 0; step < n_steps; step++) {
            rbm_stream sh = {{s->key[0], s->key[1]}, s->call + 2 * (uint64_t)step};
            rbm_stream sv = {{s->key[0], s->key[1]}, sh.call + 1};
#pragma omp for schedule(static)
            for (int b = 0; b < B; b++) {
                if (scratch == NULL) continue;
                FN(potts_gather_row)(V, M, W, v + (size_t)b * n, Ih + (size_t)b * M);
                FN(sample_clamped_row)(hid, b, Ih, h, &sh, row0, n_clamp, clamp_idx,
                                       clamp_val, clamp_ld, scratch);
            }
#pragma omp for schedule(static)
            for (int t = 0; t < n_row_tiles * n_vchunks; t++)
                FN(gemm_xw_tile)(gemm, t, n_vchunks, wv, B, M, N, h, M, Wt, N, Iv, N);
#pragma omp for schedule(static)
            for (int b = 0; b < B; b++) {
                if (scratch == NULL) continue;
                /* Iv rows are state-major (see potts_transpose) */
                uint32_t *u = (uint32_t *)scratch;
                REAL *E = (REAL *)(u + ((size_t)n + 3) / 4 * 4);
                const REAL *Ib = Iv + (size_t)b * N;
#pragma omp simd
                for (int j = 0; j < N; j++) E[j] = thetaT[j] + Ib[j];
                FN(potts_sample_major)(n, V->q, E, v + (size_t)b * n, &sv,
                                       row0 + (uint32_t)b, u, E + N);
            }
        }
        free(scratch);
    }
    free(Wt);
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}

/* Add one phase to the gradient (see gradient_impl.h for the dense case).
 *   X          in, B x n states (ldx); c in, B row coefficients
 *   Ih, H      scratch, B x M: gathered inputs, then c_b E[h | X_b]
 *   dW         in/out, (n q) x M; overwritten when accumulate = 0
 *   stats_v    in/out, n q: sum_b c_b [X_bi = a] at i q + a
 *   stats_h    in/out, R x M (one row per hidden parameter vector)
 * The weight gradient is a scatter-add of the rows of H: each thread owns
 * whole sites, so every element is summed over the batch in row order.
 */
RBM_MULTIVERSION
int FN(rbm_potts_phase_gradient)(const POTTS *V, const LAYER *hid,
                                 const REAL *W, int B, const uint8_t *X,
                                 int ldx, const REAL *c, REAL *Ih, REAL *H,
                                 REAL *dW, int accumulate, double *stats_v,
                                 double *stats_h, int n_threads) {
    int status;
    if (FN(potts_check)(V) != RBM_OK) return RBM_ERR_ARG;
    if ((status = FN(rbm_layer_check)(hid)) != RBM_OK) return status;
    int n = V->n, q = V->q, M = hid->n;
    int n_hblocks = (M + RBM_COLUMN_BLOCK - 1) / RBM_COLUMN_BLOCK;
#pragma omp parallel num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * n * M > RBM_PARALLEL_MIN_WORK)
    {
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++)
            FN(potts_gather_row)(V, M, W, X + (size_t)b * ldx, Ih + (size_t)b * M);
#pragma omp for schedule(static)
        for (int k = 0; k < n_hblocks; k++) {
            int j0 = k * RBM_COLUMN_BLOCK;
            int j1 = j0 + RBM_COLUMN_BLOCK < M ? j0 + RBM_COLUMN_BLOCK : M;
            FN(hidden_stats_block)(hid, B, Ih, c, H, stats_h, j0, j1);
        }
#pragma omp for schedule(static)
        for (int i = 0; i < n; i++) {
            REAL *dWi = dW + (size_t)i * q * M;
            if (!accumulate)
                for (size_t j = 0; j < (size_t)q * M; j++) dWi[j] = 0;
            for (int b = 0; b < B; b++) {
                int a = X[(size_t)b * ldx + i];
                REAL *row = dWi + (size_t)a * M;
                const REAL *Hb = H + (size_t)b * M;
#pragma omp simd
                for (int j = 0; j < M; j++) row[j] += Hb[j];
                stats_v[(size_t)i * q + a] += (double)c[b];
            }
        }
    }
    return RBM_OK;
}

/* F(x_b) = -sum_i theta[i, x_bi] - sum_mu Gamma_mu(I_mu(x_b)); Ih scratch. */
int FN(rbm_potts_free_energy)(const POTTS *V, const LAYER *hid, const REAL *W,
                              int B, const uint8_t *X, int ldx, REAL *Ih,
                              double *out, int n_threads) {
    int status;
    if (FN(potts_check)(V) != RBM_OK) return RBM_ERR_ARG;
    if ((status = FN(rbm_layer_check)(hid)) != RBM_OK) return status;
    int n = V->n, q = V->q, M = hid->n;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * n * M > RBM_PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++) {
        const uint8_t *xb = X + (size_t)b * ldx;
        REAL *Ib = Ih + (size_t)b * M;
        FN(potts_gather_row)(V, M, W, xb, Ib);
        double field = 0;
        for (int i = 0; i < n; i++) field += V->theta[(size_t)i * q + xb[i]];
        out[b] = -field - FN(cgf_row)(hid, Ib);
    }
    return RBM_OK;
}
