/* Row-major matrix products through a Fortran (column-major) BLAS gemm.
 * A row-major B x N matrix is the column-major N x B matrix with the same
 * leading dimension, so each product below is one gemm call with the
 * operands swapped.  REAL-templated (see precision.h). */
#include "precision.h"

/* Columns [j0, j0 + n) of C (B x ldc) = alpha X (B x K, ldx) W (K x ldw) +
 * beta C: one column chunk of a product. */
static inline void FN(gemm_xw_columns)(GEMM_T gemm, int B, int K, int j0, int n,
                                       REAL alpha, const REAL *X, int ldx,
                                       const REAL *W, int ldw, REAL beta,
                                       REAL *C, int ldc) {
    if (B == 0 || n <= 0) return;
    char t = 'N';
    gemm(&t, &t, &n, &B, &K, &alpha, (REAL *)(W + j0), &ldw, (REAL *)X, &ldx,
         &beta, C + j0, &ldc);
}

/* Tile t of C (B x ldc) = X (B x K, ldx) W (K x n_cols, ldw): row tile
 * t / n_chunks of RBM_ROW_TILE rows, column chunk t % n_chunks of width
 * `width`.  The caller loops t over n_row_tiles(B) * n_chunks tiles. */
static inline void FN(gemm_xw_tile)(GEMM_T gemm, int t, int n_chunks,
                                    int width, int B, int K, int n_cols,
                                    const REAL *X, int ldx, const REAL *W,
                                    int ldw, REAL *C, int ldc) {
    int b0 = (t / n_chunks) * RBM_ROW_TILE, j0 = (t % n_chunks) * width;
    int rows = b0 + RBM_ROW_TILE < B ? RBM_ROW_TILE : B - b0;
    int n = j0 + width < n_cols ? width : n_cols - j0;
    FN(gemm_xw_columns)(gemm, rows, K, j0, n, 1, X + (size_t)b0 * ldx, ldx, W,
                        ldw, 0, C + (size_t)b0 * ldc, ldc);
}

/* G (N x M, ldg) = alpha X^T H + beta G, X (B x N, ldx), H (B x M, ldh):
 * with offset pointers, one tile of a weight gradient. */
static inline void FN(gemm_xth)(GEMM_T gemm, int B, int N, int M, REAL alpha,
                                const REAL *X, int ldx, const REAL *H, int ldh,
                                REAL beta, REAL *G, int ldg) {
    if (N <= 0 || M <= 0) return;
    char n = 'N', t = 'T';
    gemm(&n, &t, &M, &N, &B, &alpha, (REAL *)H, &ldh, (REAL *)X, &ldx, &beta,
         G, &ldg);
}
