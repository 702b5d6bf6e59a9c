/* Kernels of RBMs with a Potts (categorical) visible layer.
 *
 * A Potts layer has n sites of q states each.  States are held as category
 * indices, one uint8_t per site (B x n, leading dimension ldv), never as
 * one-hot vectors.  Fields theta and weights W are stored as if one-hot:
 * theta is n x q and W is (n q) x M, row i q + a holding the couplings of
 * state a at site i.  Then
 *   I_h[b, mu] = sum_i W[i q + v_bi, mu]       (a gather-sum over sites)
 *   I_v[b, i q + a] = sum_mu W[i q + a, mu] h[b, mu]   (one GEMM)
 * and site i takes state a with probability softmax_a(theta[i, a] +
 * I_v[b, i q + a]).  Every function returns RBM_OK or an RBM_ERR_* status.
 */
#ifndef RBMFAST_POTTS_H
#define RBMFAST_POTTS_H

#include "common.h"

typedef struct {
    int n;
    int q;
    const float *theta;
} rbm_potts_f32;

typedef struct {
    int n;
    int q;
    const double *theta;
} rbm_potts_f64;

#define RBM_DECLARE_POTTS(SFX, REAL, POTTS, LAYER, GEMM_T)                    \
    int rbm_potts_inputs_h_##SFX(const POTTS *V, int M, const REAL *W, int B,  \
                                 const uint8_t *v, int ldv, REAL *Ih,          \
                                 int n_threads);                               \
    int rbm_potts_sample_##SFX(const POTTS *V, int B, const REAL *Iv,          \
                               uint8_t *v, int ldv, const rbm_stream *s,       \
                               uint32_t row0, int n_threads);                  \
    int rbm_potts_probabilities_##SFX(const POTTS *V, int B, const REAL *Iv,   \
                                      REAL *p, int n_threads);                 \
    int rbm_potts_cgf_##SFX(const POTTS *V, int B, const REAL *Iv,             \
                            double *out, int n_threads);                       \
    int rbm_potts_gibbs_##SFX(const POTTS *V, const LAYER *hid, const REAL *W, \
                              int B, uint8_t *v, REAL *h, REAL *Ih, REAL *Iv,  \
                              int n_steps, const rbm_stream *s, uint32_t row0, \
                              int n_clamp, const int *clamp_idx,               \
                              const REAL *clamp_val, int clamp_ld,             \
                              GEMM_T gemm, int n_threads);                     \
    int rbm_potts_phase_gradient_##SFX(                                        \
        const POTTS *V, const LAYER *hid, const REAL *W, int B,                \
        const uint8_t *X, int ldx, const REAL *c, REAL *Ih, REAL *H, REAL *dW, \
        int accumulate, double *stats_v, double *stats_h, int n_threads);     \
    int rbm_potts_free_energy_##SFX(const POTTS *V, const LAYER *hid,          \
                                    const REAL *W, int B, const uint8_t *X,    \
                                    int ldx, REAL *Ih, double *out,            \
                                    int n_threads);

RBM_DECLARE_POTTS(f32, float, rbm_potts_f32, rbm_layer_f32, rbm_sgemm_t)
RBM_DECLARE_POTTS(f64, double, rbm_potts_f64, rbm_layer_f64, rbm_dgemm_t)

#endif
