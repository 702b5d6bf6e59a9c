/* Exported rbmfast kernels, one declaration per precision (f32, f64).
 * Every function returns RBM_OK or an RBM_ERR_* status (common.h). */
#ifndef RBMFAST_LAYERS_H
#define RBMFAST_LAYERS_H

#include "common.h"

#define RBM_DECLARE(SFX, REAL, LAYER, GEMM_T)                                 \
    int rbm_layer_check_##SFX(const LAYER *L);                                \
    int rbm_layer_sample_##SFX(const LAYER *L, int B, const REAL *I,          \
                               int ldi, REAL *x, int ldx, const rbm_stream *s, \
                               uint32_t row0, int n_threads);                 \
    int rbm_layer_moment_##SFX(const LAYER *L, int B, const REAL *I,          \
                               int ldi, REAL *out, int ldo, int what,         \
                               int n_threads);                                \
    int rbm_layer_cgf_##SFX(const LAYER *L, int B, const REAL *I, int ldi,    \
                            double *out, int n_threads);                      \
    int rbm_layer_energy_##SFX(const LAYER *L, int B, const REAL *x, int ldx, \
                               double *out, int n_threads);                   \
    int rbm_gibbs_##SFX(const LAYER *vis, const LAYER *hid, const REAL *W,    \
                        int B, REAL *v, REAL *h, REAL *Ih, REAL *Iv,          \
                        int n_steps, const rbm_stream *s, uint32_t row0,      \
                        int n_clamp, const int *clamp_idx,                    \
                        const REAL *clamp_val, int clamp_ld, GEMM_T gemm,     \
                        int n_threads);                                       \
    int rbm_phase_gradient_##SFX(                                             \
        const LAYER *vis, const LAYER *hid, const REAL *W, int B,             \
        const REAL *X, int ldx, const REAL *c, REAL *Ih, REAL *H, REAL *dW,   \
        int accumulate, double *stats_v, double *stats_h, GEMM_T gemm,        \
        int n_threads);                                                       \
    int rbm_free_energy_##SFX(const LAYER *vis, const LAYER *hid,             \
                              const REAL *W, int B, const REAL *X, int ldx,   \
                              REAL *Ih, double *out, GEMM_T gemm,             \
                              int n_threads);                                 \
    int rbm_adam_##SFX(size_t n, REAL *p, const REAL *g, REAL *m, REAL *v,    \
                       double lr, double beta1, double beta2, double eps,     \
                       long t, double l2, double l1, int n_threads);          \
    int rbm_sgd_##SFX(size_t n, REAL *p, const REAL *g, REAL *buf, double lr, \
                      double momentum, double l2, double l1, int n_threads);

RBM_DECLARE(f32, float, rbm_layer_f32, rbm_sgemm_t)
RBM_DECLARE(f64, double, rbm_layer_f64, rbm_dgemm_t)

/* out[i] = erfcx(t[i]) = exp(t^2) erfc(t), exported for tests. */
void rbm_erfcx_values(size_t n, const double *t, double *out);

/* out[i] = Z - alpha[i] for a standard normal Z conditioned on
 * Z > alpha[i], at the inverse-CDF point uniform[i] of the upper tail
 * (the ReLU sampler), exported for tests. */
void rbm_truncated_normal_excess_values(size_t n, const double *alpha,
                                        const double *uniform, double *out);

/* Philox4x32-10 block, exported for known-answer tests. */
void rbm_philox_block(const uint32_t ctr[4], const uint32_t key[2],
                      uint32_t out[4]);

/* 1 when compiled with OpenMP, else 0. */
int rbm_has_openmp(void);

#endif
