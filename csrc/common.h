/* Shared definitions of the rbmfast C kernels.
 *
 * Kernels take raw pointers and sizes, never Python objects, and return an
 * int status (RBM_OK on success).  Arrays are C order with the batch axis
 * first: a batch of B states of a layer of n units is a B x n array with a
 * leading dimension (row stride, in elements) of at least n.
 */
#ifndef RBMFAST_COMMON_H
#define RBMFAST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define RBM_OK 0
#define RBM_ERR_ALLOC 1      /* malloc failed */
#define RBM_ERR_ARG 2        /* invalid size or layer kind */
#define RBM_ERR_NONFINITE 3  /* a NaN or infinity was produced or found */

/* Layer kinds; the numbering is shared with rbmfast/layers. */
#define RBM_BINARY 0
#define RBM_SPIN 1
#define RBM_GAUSSIAN 2
#define RBM_RELU 3
#define RBM_DRELU 4

/* Column blocks of this many units are the unit of work of the reductions
 * over the batch.  It is fixed, so that every column is summed over the rows
 * in the same order whatever the number of threads. */
#define RBM_COLUMN_BLOCK 64

/* Products with the weights are split into tiles of RBM_ROW_TILE batch
 * rows (all rows for weight gradients) by rbm_column_chunk(n) columns.  The
 * chunk width depends only on n (about n / RBM_COLUMN_CHUNKS, a multiple of
 * 8, at least 32), so each output element is computed by the same gemm call
 * for any number of threads while the threads share the tiles.  Measured on
 * 2 cores (784 x 500 weights, batch 256): 8 column chunks cost 10-25 % more
 * per sweep than 2 or 4, because each gemm call repacks its share of W. */
#define RBM_COLUMN_CHUNKS 4
#define RBM_ROW_TILE 256

static inline int rbm_column_chunk(int n) {
    int width = (n + RBM_COLUMN_CHUNKS - 1) / RBM_COLUMN_CHUNKS;
    width = (width + 7) / 8 * 8;
    return width < 32 ? 32 : width;
}

/* Loops with less work than this many element operations run on one
 * thread: for tiny layers the cost of waking a second thread is larger than
 * the loop itself, and results do not depend on the thread count anyway. */
#define RBM_PARALLEL_MIN_WORK 32768

/* The sampling and reduction kernels are compiled twice on x86-64, for
 * AVX2 and for the baseline ISA, and the loader picks the version the CPU
 * supports (GCC function multi-versioning through ifunc).  AVX2 doubles the
 * width of the vectorised exp and Philox loops. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(RBM_NO_TARGET_CLONES)
#define RBM_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define RBM_MULTIVERSION
#endif

/* Row functions called from multi-versioned kernels must be inlined into
 * them to be compiled for each ISA; GCC declines to inline the larger ones
 * on its own, which leaves them at the baseline ISA. */
#if defined(__GNUC__)
#define RBM_INLINE static inline __attribute__((always_inline))
#else
#define RBM_INLINE static inline
#endif

/* Fortran BLAS gemm, as exported by scipy.linalg.cython_blas. */
typedef void (*rbm_sgemm_t)(char *, char *, int *, int *, int *, float *,
                            float *, int *, float *, int *, float *, float *,
                            int *);
typedef void (*rbm_dgemm_t)(char *, char *, int *, int *, int *, double *,
                            double *, int *, double *, int *, double *,
                            double *, int *);

/* Parameters of one layer: kind, number of units and up to four parameter
 * vectors of length n (Binary/Spin: fields; Gaussian and ReLU: fields,
 * precisions; dReLU: two fields, two precisions). */
typedef struct {
    int kind;
    int n;
    const float *p[4];
} rbm_layer_f32;

typedef struct {
    int kind;
    int n;
    const double *p[4];
} rbm_layer_f64;

/* Key and first counter value of a counter-based random stream. */
typedef struct {
    uint32_t key[2];
    uint64_t call;
} rbm_stream;

static inline int rbm_threads(int n_threads) {
#ifdef _OPENMP
    return n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    (void)n_threads;
    return 1;
#endif
}

#endif
