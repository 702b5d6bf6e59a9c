/* 2D Ising model kernels (see ising.h): OpenMP over chains, Philox draws
 * addressed by chain, so the thread count never changes a result. */
#include <math.h>
#include <stdlib.h>

#include "ising.h"
#include "rng_philox.h"

/* 2^32: a 32-bit word u accepts a move of probability p when
 * u < floor(p 2^32), which is exact to within 2^-32. */
#define RBM_TWO_POW_32 4294967296.0

static int check_lattice(int n_chains, int L) {
    if (n_chains < 0 || L < 2 || L > RBM_ISING_MAX_L) return RBM_ERR_ARG;
    return RBM_OK;
}

static int check_beta(const double *beta, int n_chains) {
    for (int c = 0; c < n_chains; c++)
        if (!(beta[c] >= 0.0) || !isfinite(beta[c])) return RBM_ERR_ARG;
    return RBM_OK;
}

/* Threshold that a uniform 32-bit word must stay below to accept a move of
 * probability min(1, p). */
static uint64_t accept_threshold(double p) {
    if (p >= 1.0) return (uint64_t)1 << 32;
    return (uint64_t)(p * RBM_TWO_POW_32);
}

/* ---- Metropolis ---------------------------------------------------- */

/* Flipping spin s with neighbour sum n (one of -4, -2, 0, 2, 4) changes the
 * energy by dE = 2 s (J n + h); the move is accepted with probability
 * min(1, exp(-beta dE)), except that a move with dE = 0 is accepted with
 * probability 1/2.  Detailed balance holds for any acceptance of a dE = 0
 * move.  With acceptance 1 the fixed sweep order is not ergodic: states in
 * which every site has n + h = 0 when it is updated flip deterministically
 * and never leave that set.  Examples at h = 0 are the diagonal stripes
 * s(i, j) = f((i + j) mod 4) with f = (+1, +1, -1, -1) for L divisible by 4,
 * and for L = 2 every state with s(0,0) = -s(1,1) and s(0,1) = -s(1,0).
 * Entry n + 4 + (s > 0) of the table is the acceptance threshold. */
static void metropolis_table(double beta, double field, uint64_t table[10]) {
    for (int k = 0; k < 5; k++) {
        int n = 2 * k - 4;
        for (int up = 0; up < 2; up++) {
            double s = up ? 1.0 : -1.0;
            double dE = 2.0 * s * ((double)n + field);
            double p = dE == 0.0 ? 0.5 : exp(-beta * dE);
            table[2 * k + up] = accept_threshold(p);
        }
    }
}

/* One chain, n_sweeps sweeps.  A sweep updates the sites with (i + j) even,
 * then those with (i + j) odd, in place and in row order.  For even L the
 * sites of one colour have no neighbour of the same colour.  For odd L the
 * wrap-around joins some of them, but the in-place updates are still a
 * valid sequence of single-site Metropolis moves. */
static void metropolis_chain(int8_t *x, int L, const uint64_t table[10],
                             int n_sweeps, const rbm_stream *s,
                             uint32_t chain, uint32_t *u) {
    int N = L * L;
    for (int sweep = 0; sweep < n_sweeps; sweep++) {
        rbm_philox_words(s->key, s->call + (uint64_t)sweep, chain, N, u);
        for (int colour = 0; colour < 2; colour++) {
            for (int i = 0; i < L; i++) {
                int8_t *row = x + (size_t)i * L;
                const int8_t *above = x + (size_t)(i == 0 ? L - 1 : i - 1) * L;
                const int8_t *below = x + (size_t)(i == L - 1 ? 0 : i + 1) * L;
                const uint32_t *ui = u + (size_t)i * L;
                for (int j = (i + colour) & 1; j < L; j += 2) {
                    int left = j == 0 ? L - 1 : j - 1;
                    int right = j == L - 1 ? 0 : j + 1;
                    int n = above[j] + below[j] + row[left] + row[right];
                    int spin = row[j];
                    uint64_t limit = table[(n + 4) + (spin > 0)];
                    /* Arithmetic, not a branch: at high temperature the
                     * outcome is close to a coin toss, which a branch
                     * predictor cannot follow. */
                    int flip = (uint64_t)ui[j] < limit;
                    row[j] = (int8_t)(spin - 2 * spin * flip);
                }
            }
        }
    }
}

int rbm_ising_metropolis(int8_t *spins, int n_chains, int L,
                         const double *beta, double field, int n_sweeps,
                         const rbm_stream *s, int n_threads) {
    if (check_lattice(n_chains, L) != RBM_OK || n_sweeps < 0 ||
        !isfinite(field) || check_beta(beta, n_chains) != RBM_OK)
        return RBM_ERR_ARG;
    if (n_chains == 0 || n_sweeps == 0) return RBM_OK;
    int N = L * L;
    size_t words = ((size_t)N + 3) / 4 * 4;
    size_t work = (size_t)n_chains * (size_t)N * (size_t)n_sweeps;
    (void)work; /* read only by the OpenMP if clause */
    int failed = 0;
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if (work > RBM_PARALLEL_MIN_WORK)
    {
        uint32_t *u = malloc(words * sizeof *u);
        failed = u == NULL;
#pragma omp for schedule(static)
        for (int c = 0; c < n_chains; c++) {
            if (u == NULL) continue;
            uint64_t table[10];
            metropolis_table(beta[c], field, table);
            metropolis_chain(spins + (size_t)c * N, L, table, n_sweeps, s,
                             (uint32_t)c, u);
        }
        free(u);
    }
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}

/* ---- Wolff ---------------------------------------------------------- */

/* Sequential 32-bit words of one Philox counter space (block, chain, call
 * low, call high), starting at block 0. */
typedef struct {
    uint32_t counter[4];
    uint32_t key[2];
    uint32_t block[4];
    int next;
} word_source;

static void word_source_init(word_source *w, const rbm_stream *s,
                             uint32_t chain, uint64_t call) {
    w->counter[0] = 0;
    w->counter[1] = chain;
    w->counter[2] = (uint32_t)call;
    w->counter[3] = (uint32_t)(call >> 32);
    w->key[0] = s->key[0];
    w->key[1] = s->key[1];
    w->next = 4;
}

static inline uint32_t next_word(word_source *w) {
    if (w->next == 4) {
        rbm_philox4x32(w->counter, w->key, w->block);
        w->counter[0]++;
        w->next = 0;
    }
    return w->block[w->next++];
}

/* Grow and flip one cluster from a uniformly drawn seed site and return its
 * size.  A neighbour with the cluster's old spin joins with probability
 * 1 - exp(-2 beta J), tested once per bond.  Sites flip as they join, so no
 * site enters the stack twice and the stack needs at most N entries. */
static int64_t wolff_cluster(int8_t *x, int L, uint64_t join_limit,
                             word_source *w, int32_t *stack) {
    int N = L * L;
    /* multiply-shift maps the word to [0, N); its bias is below N / 2^32 */
    int seed = (int)(((uint64_t)next_word(w) * (uint64_t)N) >> 32);
    int8_t old = x[seed];
    x[seed] = (int8_t)-old;
    int top = 0;
    stack[top++] = seed;
    int64_t size = 1;
    while (top > 0) {
        int site = stack[--top];
        int i = site / L, j = site - i * L;
        int neighbours[4] = {
            (i == 0 ? site + N - L : site - L),
            (i == L - 1 ? site - N + L : site + L),
            (j == 0 ? site + L - 1 : site - 1),
            (j == L - 1 ? site - L + 1 : site + 1),
        };
        for (int q = 0; q < 4; q++) {
            int t = neighbours[q];
            if (x[t] == old && (uint64_t)next_word(w) < join_limit) {
                x[t] = (int8_t)-old;
                stack[top++] = t;
                size++;
            }
        }
    }
    return size;
}

static void wolff_chain(int8_t *x, int L, double beta, int64_t n_clusters,
                        int64_t max_flips, const rbm_stream *s,
                        uint32_t chain, int32_t *stack, int64_t *n_done,
                        int64_t *n_flipped) {
    uint64_t join_limit = accept_threshold(1.0 - exp(-2.0 * beta));
    int64_t done = 0, flipped = 0;
    for (int64_t k = 0; k < n_clusters; k++) {
        if (max_flips > 0 && flipped >= max_flips) break;
        word_source w;
        word_source_init(&w, s, chain, s->call + (uint64_t)k);
        flipped += wolff_cluster(x, L, join_limit, &w, stack);
        done++;
    }
    if (n_done != NULL) *n_done = done;
    if (n_flipped != NULL) *n_flipped = flipped;
}

int rbm_ising_wolff(int8_t *spins, int n_chains, int L, const double *beta,
                    double field, const int64_t *n_clusters,
                    int64_t max_flips, const rbm_stream *s, int64_t *n_done,
                    int64_t *n_flipped, int n_threads) {
    if (check_lattice(n_chains, L) != RBM_OK || field != 0.0 ||
        max_flips < 0 || check_beta(beta, n_chains) != RBM_OK)
        return RBM_ERR_ARG;
    /* Each cluster visits at least its seed and 4 neighbours, so 5 times the
     * number of clusters is a lower bound on the work. */
    size_t work = 0;
    for (int c = 0; c < n_chains; c++) {
        if (n_clusters[c] < 0) return RBM_ERR_ARG;
        work += 5 * (size_t)n_clusters[c];
    }
    (void)work; /* read only by the OpenMP if clause */
    if (n_chains == 0) return RBM_OK;
    int N = L * L;
    int failed = 0;
    /* Cluster sizes vary between chains, so chains are handed out one at a
     * time.  The draws depend only on the chain index, not on the schedule. */
#pragma omp parallel num_threads(rbm_threads(n_threads)) reduction(| : failed) \
    if (work > RBM_PARALLEL_MIN_WORK)
    {
        int32_t *stack = malloc((size_t)N * sizeof *stack);
        failed = stack == NULL;
#pragma omp for schedule(dynamic, 1)
        for (int c = 0; c < n_chains; c++) {
            if (stack == NULL) continue;
            wolff_chain(spins + (size_t)c * N, L, beta[c], n_clusters[c],
                        max_flips, s, (uint32_t)c, stack,
                        n_done == NULL ? NULL : n_done + c,
                        n_flipped == NULL ? NULL : n_flipped + c);
        }
        free(stack);
    }
    return failed ? RBM_ERR_ALLOC : RBM_OK;
}

/* ---- Observables ---------------------------------------------------- */

/* Sums over the sites, exact in integers: bonds = sum s_i (s_right +
 * s_down), total = sum s_i. */
static void chain_sums(const int8_t *x, int L, int64_t *bonds,
                       int64_t *total) {
    int64_t b = 0, m = 0;
    for (int i = 0; i < L; i++) {
        const int8_t *row = x + (size_t)i * L;
        const int8_t *below = x + (size_t)(i == L - 1 ? 0 : i + 1) * L;
        for (int j = 0; j < L; j++) {
            int right = j == L - 1 ? 0 : j + 1;
            b += row[j] * (row[right] + below[j]);
            m += row[j];
        }
    }
    *bonds = b;
    *total = m;
}

int rbm_ising_observables(const int8_t *spins, int n_chains, int L,
                          double field, double *energy, double *magnetisation,
                          int n_threads) {
    if (check_lattice(n_chains, L) != RBM_OK || !isfinite(field))
        return RBM_ERR_ARG;
    int N = L * L;
#pragma omp parallel for schedule(static) num_threads(rbm_threads(n_threads)) \
    if ((size_t)n_chains * N > RBM_PARALLEL_MIN_WORK)
    for (int c = 0; c < n_chains; c++) {
        int64_t bonds, total;
        chain_sums(spins + (size_t)c * N, L, &bonds, &total);
        energy[c] = (-(double)bonds - field * (double)total) / N;
        magnetisation[c] = (double)total / N;
    }
    return RBM_OK;
}
