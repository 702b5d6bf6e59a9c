/* Fused block-Gibbs sweeps over a batch of chains, REAL-templated.
 *
 * One sweep is h ~ p(h | v), then v ~ p(v | h), all inside one OpenMP
 * region.  Each product is split into fixed tiles (see rbm_column_chunk)
 * that the threads share, and each thread calls the single-threaded BLAS
 * for its tiles.  Then the threads sample their rows.
 * The chunks do not depend on the number of threads, and sweep s draws
 * hidden units from stream call + 2 s and visible units from call + 2 s + 1
 * at the chain's own stream row, so the result is the same for any number
 * of threads.
 */

/* Run n_steps sweeps on B chains.
 *   vis, hid   layers (n_visible = N, n_hidden = M)
 *   W          in, N x M weights
 *   v          in/out, B x N visible states
 *   h          out, B x M hidden states of the last sweep
 *   Ih, Iv     scratch, B x M and B x N
 *   s          stream; sweep s uses calls s->call + 2 s and + 2 s + 1
 *   row0       stream row number of chain 0
 *   n_clamp, clamp_idx, clamp_val, clamp_ld
 *              hidden units held fixed after each hidden sampling step:
 *              h[b, clamp_idx[c]] = clamp_val[b * clamp_ld + c]
 *              (clamp_ld = 0 gives every chain the same values)
 *   gemm       a single-threaded BLAS gemm: it is called from inside the
 *              OpenMP region
 */
RBM_MULTIVERSION
int FN(rbm_gibbs)(const LAYER *vis, const LAYER *hid, const REAL *W, int B,
                  REAL *v, REAL *h, REAL *Ih, REAL *Iv, int n_steps,
                  const rbm_stream *s, uint32_t row0, int n_clamp,
                  const int *clamp_idx, const REAL *clamp_val, int clamp_ld,
                  GEMM_T gemm, int n_threads) {
    int N = vis->n, M = hid->n, status;
    if ((status = FN(rbm_layer_check)(vis)) != RBM_OK) return status;
    if ((status = FN(rbm_layer_check)(hid)) != RBM_OK) return status;
    for (int c = 0; c < n_clamp; c++)
        if (clamp_idx[c] < 0 || clamp_idx[c] >= M) return RBM_ERR_ARG;
    REAL *Wt = (REAL *)malloc((size_t)N * M * sizeof(REAL));
    if (Wt == NULL) return RBM_ERR_ALLOC;
    FN(transpose)(N, M, W, Wt, n_threads);

    int wh = rbm_column_chunk(M), wv = rbm_column_chunk(N);
    int n_hchunks = (M + wh - 1) / wh, n_vchunks = (N + wv - 1) / wv;
    int n_row_tiles = (B + RBM_ROW_TILE - 1) / RBM_ROW_TILE;
    size_t bytes = FN(row_scratch_bytes)(N > M ? N : M);
    int failed = 0;
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if ((size_t)B * N * M > RBM_PARALLEL_MIN_WORK)
    {
        void *scratch = malloc(bytes);
        failed = scratch == NULL;
        /* every thread runs every worksharing loop (a thread that skipped
         * one would deadlock the others), so a failed malloc only skips work */
        for (int step = 0; step < n_steps; step++) {
            rbm_stream sh = {{s->key[0], s->key[1]}, s->call + 2 * (uint64_t)step};
            rbm_stream sv = {{s->key[0], s->key[1]}, sh.call + 1};
#pragma omp for schedule(static)
            for (int t = 0; t < n_row_tiles * n_hchunks; t++)
                FN(gemm_xw_tile)(gemm, t, n_hchunks, wh, B, N, M, v, N, W, M, Ih, M);
#pragma omp for schedule(static)
            for (int b = 0; b < B; b++)
                if (scratch != NULL)
                    FN(sample_clamped_row)(hid, b, Ih, h, &sh, row0, n_clamp,
                                           clamp_idx, clamp_val, clamp_ld,
                                           scratch);
#pragma omp for schedule(static)
            for (int t = 0; t < n_row_tiles * n_vchunks; t++)
                FN(gemm_xw_tile)(gemm, t, n_vchunks, wv, B, M, N, h, M, Wt, N, Iv, N);
#pragma omp for schedule(static)
            for (int b = 0; b < B; b++)
                if (scratch != NULL)
                    FN(sample_clamped_row)(vis, b, Iv, v, &sv, row0, 0, NULL,
                                           NULL, 0, scratch);
        }
        free(scratch);
    }
    free(Wt);
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}
