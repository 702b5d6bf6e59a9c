/* Row-major matrix products through a Fortran (column-major) BLAS gemm.
 * A row-major B x N matrix is the column-major N x B matrix with the same
 * leading dimension, so each product below is one gemm call with the
 * operands swapped.  REAL-templated (see precision.h). */
#include "precision.h"

/* C (B x M, ldc) = alpha X (B x N, ldx) W (N x M, ld M) + beta C. */
static inline void FN(gemm_xw)(GEMM_T gemm, int B, int N, int M, REAL alpha,
                               const REAL *X, int ldx, const REAL *W,
                               REAL beta, REAL *C, int ldc) {
    if (B == 0 || M == 0) return;
    char n = 'N';
    int ldw = M;
    gemm(&n, &n, &M, &B, &N, &alpha, (REAL *)W, &ldw, (REAL *)X, &ldx, &beta,
         C, &ldc);
}

/* C (B x N, ldc) = alpha X (B x M, ldx) W^T + beta C, W (N x M, ld M). */
static inline void FN(gemm_xwt)(GEMM_T gemm, int B, int N, int M, REAL alpha,
                                const REAL *X, int ldx, const REAL *W,
                                REAL beta, REAL *C, int ldc) {
    if (B == 0 || N == 0) return;
    char t = 'T', n = 'N';
    int ldw = M;
    gemm(&t, &n, &N, &B, &M, &alpha, (REAL *)W, &ldw, (REAL *)X, &ldx, &beta,
         C, &ldc);
}

/* G (N x M, ld M) = alpha X^T H + beta G, X (B x N, ldx), H (B x M, ldh). */
static inline void FN(gemm_xth)(GEMM_T gemm, int B, int N, int M, REAL alpha,
                                const REAL *X, int ldx, const REAL *H, int ldh,
                                REAL beta, REAL *G) {
    if (N == 0 || M == 0) return;
    char n = 'N', t = 'T';
    int ldg = M;
    gemm(&n, &t, &M, &N, &B, &alpha, (REAL *)H, &ldh, (REAL *)X, &ldx, &beta,
         G, &ldg);
}
