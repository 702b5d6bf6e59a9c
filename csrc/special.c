/* Exported special functions of the ReLU and dReLU layers, for tests
 * against SciPy. */
#include "layers.h"
#include "special.h"

void rbm_erfcx_values(size_t n, const double *t, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = rbm_erfcx(t[i]);
}

void rbm_truncated_normal_excess_values(size_t n, const double *alpha,
                                        const double *uniform, double *out) {
    for (size_t i = 0; i < n; i++)
        out[i] = rbm_truncated_normal_excess(alpha[i], uniform[i]);
}
