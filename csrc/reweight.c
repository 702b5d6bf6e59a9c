/* Identity counts for sequence reweighting and nearest rows between two
 * sets of sequences (see reweight.h). */
#include <stdlib.h>
#include <string.h>

#include "reweight.h"

/* Columns compared between two tests of the early exit.  It is below 256,
 * so the per-chunk uint8 match counter cannot overflow.  With a uint8
 * counter gcc 12 vectorises the loop over 16 (SSE2) or 32 (AVX2) bytes. */
#define RBM_IDENTITY_CHUNK 64

/* Return 1 when rows x and y agree in at least threshold of their L
 * positions.  The comparison stops early, at the end of the chunk in which
 * the matches reach threshold or the mismatches exceed L - threshold. */
static inline int rows_reach(const int8_t *x, const int8_t *y, int L,
                             int threshold) {
    int max_mismatches = L - threshold;
    int matches = 0;
    for (int start = 0; start < L; start += RBM_IDENTITY_CHUNK) {
        int end = L - start > RBM_IDENTITY_CHUNK ? start + RBM_IDENTITY_CHUNK
                                                 : L;
        uint8_t chunk_matches = 0;
        for (int i = start; i < end; i++)
            chunk_matches += (uint8_t)(x[i] == y[i]);
        matches += chunk_matches;
        if (matches >= threshold) return 1;
        if (end - matches > max_mismatches) return 0;
    }
    return 0;
}

/* Each unordered pair (b, b') with b < b' is compared once and adds 1 to
 * both counts when it reaches the threshold.  Threads add into their own
 * count buffers, which are summed afterwards.  All sums are of integers, so
 * their order does not change the result. */
RBM_MULTIVERSION
int rbm_identity_counts(int B, int L, const int8_t *seqs, int ld,
                        int threshold, int64_t *counts, int n_threads) {
    if (B < 0 || L < 1 || ld < L || threshold < 0 || threshold > L)
        return RBM_ERR_ARG;
    if (B == 0) return RBM_OK;
    if (threshold == 0) {
        for (int b = 0; b < B; b++) counts[b] = B;
        return RBM_OK;
    }
    double work = (double)B * (double)B * (double)L / 2;
    int parallel = work > RBM_PARALLEL_MIN_WORK;
    int n_buffers = parallel ? rbm_threads(n_threads) : 1;
    int64_t *partial = calloc((size_t)n_buffers * (size_t)B, sizeof(int64_t));
    if (partial == NULL) return RBM_ERR_ALLOC;

    /* Rows near the end have few partners, so the rows are handed out in
     * small dynamic chunks to balance the triangular loop. */
#pragma omp parallel num_threads(n_buffers) if (parallel)
    {
        int thread = 0;
#ifdef _OPENMP
        thread = omp_get_thread_num();
#endif
        int64_t *own = partial + (size_t)thread * (size_t)B;
#pragma omp for schedule(dynamic, 8)
        for (int b = 0; b < B; b++) {
            const int8_t *x = seqs + (size_t)b * (size_t)ld;
            int64_t reached = 0;
            for (int other = b + 1; other < B; other++) {
                if (rows_reach(x, seqs + (size_t)other * (size_t)ld, L,
                               threshold)) {
                    reached++;
                    own[other]++;
                }
            }
            own[b] += reached;
        }
    }

    for (int b = 0; b < B; b++) {
        int64_t total = 1; /* the row itself */
        for (int t = 0; t < n_buffers; t++) total += partial[(size_t)t * B + b];
        counts[b] = total;
    }
    free(partial);
    return RBM_OK;
}

/* Return the number of columns in which x and y agree when it is above
 * best, and -1 as soon as the columns left cannot lift it above best.  The
 * test runs once per chunk, as in rows_reach. */
static inline int matches_above(const uint8_t *x, const uint8_t *y, int L,
                                int best) {
    int matches = 0;
    for (int start = 0; start < L; start += RBM_IDENTITY_CHUNK) {
        int end = L - start > RBM_IDENTITY_CHUNK ? start + RBM_IDENTITY_CHUNK
                                                 : L;
        uint8_t chunk_matches = 0;
        for (int i = start; i < end; i++)
            chunk_matches += (uint8_t)(x[i] == y[i]);
        matches += chunk_matches;
        if (matches + (L - end) <= best) return -1;
    }
    return matches;
}

/* Each query row scans the reference rows in increasing order and moves to
 * a new row only on strictly more matches, so ties go to the lowest index.
 * The rows are independent, so the result does not depend on how they are
 * split between threads. */
RBM_MULTIVERSION
int rbm_nearest_rows(int n_query, int n_reference, int L,
                     const uint8_t *query, int ld_query,
                     const uint8_t *reference, int ld_reference,
                     int64_t *index, int32_t *matches, int n_threads) {
    if (n_query < 0 || n_reference < 1 || L < 1 || ld_query < L ||
        ld_reference < L)
        return RBM_ERR_ARG;
    double work = (double)n_query * (double)n_reference * (double)L;
    int parallel = work > RBM_PARALLEL_MIN_WORK;
    int n_used = parallel ? rbm_threads(n_threads) : 1;

    /* The early exit makes the cost per row uneven, so rows are handed out
     * in small dynamic chunks. */
#pragma omp parallel for num_threads(n_used) if (parallel) schedule(dynamic, 4)
    for (int a = 0; a < n_query; a++) {
        const uint8_t *x = query + (size_t)a * (size_t)ld_query;
        int best = -1;
        int64_t best_row = 0;
        for (int b = 0; b < n_reference && best < L; b++) {
            int m = matches_above(x, reference + (size_t)b * (size_t)ld_reference,
                                  L, best);
            if (m > best) {
                best = m;
                best_row = b;
            }
        }
        index[a] = best_row;
        matches[a] = best;
    }
    return RBM_OK;
}
