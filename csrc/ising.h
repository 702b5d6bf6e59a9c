/* 2D Ising model kernels: Metropolis and Wolff updates, energy and
 * magnetisation.
 *
 * A batch is n_chains independent L x L periodic lattices of int8 spins
 * (+1 or -1), stored as one C-order n_chains x L x L array.  The energy is
 * E = -J sum_<ij> s_i s_j - h sum_i s_i with J = 1, where <ij> runs over the
 * 2 L^2 bonds to the right and downward neighbours.  For L = 2 the right and
 * left neighbours are the same site, so each such pair counts as two bonds,
 * in the energy and in the updates alike.
 *
 * Random words come from Philox4x32-10 at the stream key and the counter
 * (block, chain, call low word, call high word), so every chain has its own
 * counter space and results do not depend on the number of threads.
 *
 * Every function returns RBM_OK, or RBM_ERR_ARG for an invalid size,
 * temperature, field or count.  The two updates can also return
 * RBM_ERR_ALLOC.  The spin values are not checked here, because the callers
 * guarantee +1 or -1.
 */
#ifndef RBMFAST_ISING_H
#define RBMFAST_ISING_H

#include "common.h"

/* Largest supported side, so that L^2 sites index with an int. */
#define RBM_ISING_MAX_L 32768

/* Run n_sweeps checkerboard Metropolis sweeps on every chain, chain c at
 * inverse temperature beta[c] (finite, >= 0) in field h.  Sweep k of the
 * call draws from stream call s->call + k, one 32-bit word per site. */
int rbm_ising_metropolis(int8_t *spins, int n_chains, int L,
                         const double *beta, double field, int n_sweeps,
                         const rbm_stream *s, int n_threads);

/* Run Wolff cluster updates on every chain, chain c at inverse temperature
 * beta[c].  The field must be 0, because the cluster move as written
 * ignores it.  Chain c grows n_clusters[c] clusters, cluster k drawing from
 * stream call s->call + k.  With max_flips > 0 a chain stops early once it
 * has flipped at least max_flips spins in this call.  n_done[c] and
 * n_flipped[c] (either may be NULL) receive the number of clusters grown
 * and of spins flipped. */
int rbm_ising_wolff(int8_t *spins, int n_chains, int L, const double *beta,
                    double field, const int64_t *n_clusters,
                    int64_t max_flips, const rbm_stream *s, int64_t *n_done,
                    int64_t *n_flipped, int n_threads);

/* Write the energy per spin and the (signed) magnetisation per spin of every
 * chain in field h. */
int rbm_ising_observables(const int8_t *spins, int n_chains, int L,
                          double field, double *energy, double *magnetisation,
                          int n_threads);

#endif
