/* Batch layer kernels (OpenMP over rows), included by layers.c once per
 * precision after layer_rows.h. */

int FN(rbm_layer_check)(const LAYER *L) {
    if (L->n < 1 || L->p[0] == NULL) return RBM_ERR_ARG;
    if (L->kind == RBM_GAUSSIAN) return L->p[1] == NULL ? RBM_ERR_ARG : RBM_OK;
    return (L->kind == RBM_BINARY || L->kind == RBM_SPIN) ? RBM_OK
                                                         : RBM_ERR_ARG;
}

/* Sample B rows x (B x ldx) from inputs I (B x ldi); row b draws from
 * stream s with row number row0 + b. */
RBM_MULTIVERSION
int FN(rbm_layer_sample)(const LAYER *L, int B, const REAL *I, int ldi,
                         REAL *x, int ldx, const rbm_stream *s, uint32_t row0,
                         int n_threads) {
    int status = FN(rbm_layer_check)(L);
    if (status != RBM_OK) return status;
    size_t bytes = FN(row_scratch_bytes)(L->n);
    int failed = 0;
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if ((size_t)B * L->n > RBM_PARALLEL_MIN_WORK)
    {
        void *scratch = malloc(bytes);
        failed = scratch == NULL;
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++)
            if (scratch != NULL)
                FN(sample_row)(L, I + (size_t)b * ldi, x + (size_t)b * ldx, s,
                               row0 + (uint32_t)b, scratch);
        free(scratch);
    }
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}

/* Conditional mean (what = 0), variance (1) or mode (2) of B rows. */
RBM_MULTIVERSION
int FN(rbm_layer_moment)(const LAYER *L, int B, const REAL *I, int ldi,
                         REAL *out, int ldo, int what, int n_threads) {
    int status = FN(rbm_layer_check)(L);
    if (status != RBM_OK) return status;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * L->n > RBM_PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++)
        FN(moment_row)(L, I + (size_t)b * ldi, out + (size_t)b * ldo, what);
    return RBM_OK;
}

/* out[b] = sum_j Gamma_j(theta_j + I[b, j]). */
int FN(rbm_layer_cgf)(const LAYER *L, int B, const REAL *I, int ldi,
                      double *out, int n_threads) {
    int status = FN(rbm_layer_check)(L);
    if (status != RBM_OK) return status;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * L->n > RBM_PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++) out[b] = FN(cgf_row)(L, I + (size_t)b * ldi);
    return RBM_OK;
}

/* out[b] = sum_j U_j(x[b, j]). */
int FN(rbm_layer_energy)(const LAYER *L, int B, const REAL *x, int ldx,
                         double *out, int n_threads) {
    int status = FN(rbm_layer_check)(L);
    if (status != RBM_OK) return status;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)B * L->n > RBM_PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++) out[b] = FN(energy_row)(L, x + (size_t)b * ldx);
    return RBM_OK;
}
