/* Exported helpers around the header-only Philox generator. */
#include "layers.h"
#include "rng_philox.h"

void rbm_philox_block(const uint32_t ctr[4], const uint32_t key[2],
                      uint32_t out[4]) {
    rbm_philox4x32(ctr, key, out);
}

int rbm_has_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}
