/* Identity counts behind the sequence weights of rbmfast.datasets.msa, and
 * nearest rows between two sets of sequences. */
#ifndef RBMFAST_REWEIGHT_H
#define RBMFAST_REWEIGHT_H

#include "common.h"

/* Count, for each of the B rows of seqs (B x L int8 states, leading
 * dimension ld >= L), the rows that agree with it in at least threshold of
 * the L positions, the row itself included:
 *
 *     counts[b] = #{b' : sum_i [seqs[b, i] == seqs[b', i]] >= threshold}.
 *
 * Requires B >= 0, L >= 1 and 0 <= threshold <= L, so counts[b] >= 1.  The
 * counts are integers, hence the same for every thread count.  Returns
 * RBM_OK, RBM_ERR_ARG for invalid sizes or RBM_ERR_ALLOC when the
 * per-thread count buffers cannot be allocated. */
int rbm_identity_counts(int B, int L, const int8_t *seqs, int ld,
                        int threshold, int64_t *counts, int n_threads);

/* Find, for each of the n_query rows of query (n_query x L uint8 states,
 * leading dimension ld_query >= L), the row of reference (n_reference x L,
 * leading dimension ld_reference >= L) with which it agrees in the most of
 * the L positions:
 *
 *     matches[a] = max_b sum_i [query[a, i] == reference[b, i]],
 *     index[a]   = the lowest b that reaches matches[a].
 *
 * Requires n_query >= 0, n_reference >= 1 and L >= 1.  The result is the
 * same for every thread count.  Returns RBM_OK, or RBM_ERR_ARG for invalid
 * sizes. */
int rbm_nearest_rows(int n_query, int n_reference, int L,
                     const uint8_t *query, int ld_query,
                     const uint8_t *reference, int ld_reference,
                     int64_t *index, int32_t *matches, int n_threads);

#endif
