/* Batch layer kernels (OpenMP over rows), included by layers.c once per
 * precision after layer_rows.h. */

/* RBM_OK when the kind is known and its parameter vectors are set:
 * p[0] for Binary and Spin, p[0..1] for Gaussian and ReLU, p[0..3] for
 * dReLU. */
int FN(rbm_layer_check)(const LAYER *L) {
    int n_params;
    switch (L->kind) {
    case RBM_BINARY:
    case RBM_SPIN:
        n_params = 1;
        break;
    case RBM_GAUSSIAN:
    case RBM_RELU:
        n_params = 2;
        break;
    case RBM_DRELU:
        n_params = 4;
        break;
    default:
        return RBM_ERR_ARG;
    }
    if (L->n < 1) return RBM_ERR_ARG;
    for (int i = 0; i < n_params; i++)
        if (L->p[i] == NULL) return RBM_ERR_ARG;
    return RBM_OK;
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
