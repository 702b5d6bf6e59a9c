/* Philox4x32-10 counter-based generator (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC'11).
 *
 * Every draw is a pure function of (key, counter), so a sample does not
 * depend on which thread computed it.  rbmfast lays the 128-bit counter out
 * as (block, row, call low word, call high word): `call` numbers each
 * sampling operation of a stream, `row` is the chain (batch row) and
 * `block` the group of units within the row.
 */
#ifndef RBMFAST_RNG_PHILOX_H
#define RBMFAST_RNG_PHILOX_H

#include <math.h>
#include <stdint.h>

#define RBM_PHILOX_M0 0xD2511F53u
#define RBM_PHILOX_M1 0xCD9E8D57u
#define RBM_PHILOX_W0 0x9E3779B9u
#define RBM_PHILOX_W1 0xBB67AE85u

static inline void rbm_philox_round(uint32_t c[4], const uint32_t k[2]) {
    uint64_t p0 = (uint64_t)RBM_PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)RBM_PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    c[0] = hi1 ^ c[1] ^ k[0];
    c[1] = lo1;
    c[2] = hi0 ^ c[3] ^ k[1];
    c[3] = lo0;
}

/* out = Philox4x32-10(counter c, key k). */
static inline void rbm_philox4x32(const uint32_t c_in[4], const uint32_t k_in[2],
                                  uint32_t out[4]) {
    uint32_t c[4] = {c_in[0], c_in[1], c_in[2], c_in[3]};
    uint32_t k[2] = {k_in[0], k_in[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k[0] += RBM_PHILOX_W0;
            k[1] += RBM_PHILOX_W1;
        }
        rbm_philox_round(c, k);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

/* Fill u[0..4 ceil(n / 4)) with the 32-bit words of stream (key, call) for
 * one row: word j comes from block j / 4, word j % 4.  The loop over blocks
 * has no dependence between iterations, so it vectorises. */
static inline void rbm_philox_words(const uint32_t key[2], uint64_t call,
                                    uint32_t row, int n, uint32_t *u) {
    uint32_t n_blocks = ((uint32_t)n + 3) / 4;
    uint32_t lo = (uint32_t)call, hi = (uint32_t)(call >> 32);
    for (uint32_t block = 0; block < n_blocks; block++) {
        uint32_t c[4] = {block, row, lo, hi}, out[4];
        rbm_philox4x32(c, key, out);
        u[4 * block] = out[0];
        u[4 * block + 1] = out[1];
        u[4 * block + 2] = out[2];
        u[4 * block + 3] = out[3];
    }
}

/* Uniform on (0, 1) with 53 random bits from two words. */
static inline double rbm_uniform53(uint32_t hi, uint32_t lo) {
    uint64_t m = ((uint64_t)(hi >> 5) << 26) | (uint64_t)(lo >> 6);
    return ((double)m + 0.5) * (1.0 / 9007199254740992.0);
}

/* Fill z[0..n) with standard normal draws for one row: unit j takes the
 * four words of block j, as two 53-bit uniforms for the Box-Muller map. */
static inline void rbm_philox_normals(const uint32_t key[2], uint64_t call,
                                      uint32_t row, int n, double *z) {
    uint32_t c[4] = {0, row, (uint32_t)call, (uint32_t)(call >> 32)};
    uint32_t out[4];
    for (int j = 0; j < n; j++) {
        c[0] = (uint32_t)j;
        rbm_philox4x32(c, key, out);
        double u1 = rbm_uniform53(out[0], out[1]);
        double u2 = rbm_uniform53(out[2], out[3]);
        z[j] = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    }
}

#endif
