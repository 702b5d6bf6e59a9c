/* Identity counts behind the sequence weights of rbmfast.datasets.msa. */
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

#endif
