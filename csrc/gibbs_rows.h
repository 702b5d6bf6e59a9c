/* Row helpers shared by the Gibbs kernels of dense and Potts visible
 * layers, REAL-templated; included after layer_rows.h. */
#include "precision.h"

/* Wt (M x N) = W^T for W (N x M), in cache blocks. */
static void FN(transpose)(int N, int M, const REAL *W, REAL *Wt,
                          int n_threads) {
    const int T = 32;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)N * M > RBM_PARALLEL_MIN_WORK)
    for (int i0 = 0; i0 < N; i0 += T)
        for (int j0 = 0; j0 < M; j0 += T)
            for (int i = i0; i < i0 + T && i < N; i++)
                for (int j = j0; j < j0 + T && j < M; j++)
                    Wt[(size_t)j * N + i] = W[(size_t)i * M + j];
}

/* Sample row b of layer L from I into x (ld L->n), then clamp. */
RBM_INLINE void FN(sample_clamped_row)(const LAYER *L, int b, const REAL *I,
                                          REAL *x, const rbm_stream *s,
                                          uint32_t row0, int n_clamp,
                                          const int *idx, const REAL *val,
                                          int ld, void *scratch) {
    REAL *xb = x + (size_t)b * L->n;
    FN(sample_row)(L, I + (size_t)b * L->n, xb, s, row0 + (uint32_t)b, scratch);
    const REAL *vb = n_clamp > 0 ? val + (size_t)b * ld : NULL;
    for (int c = 0; c < n_clamp; c++) xb[idx[c]] = vb[c];
}
