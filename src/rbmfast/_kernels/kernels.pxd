# C declarations of the rbmfast kernels (csrc/layers.h) and the helpers that
# every wrapper module shares: layer structs from (kind, params) and the BLAS
# gemm pointers taken from scipy.linalg.cython_blas.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef extern from "layers.h" nogil:
    int RBM_OK, RBM_ERR_ALLOC, RBM_ERR_ARG, RBM_ERR_NONFINITE
    ctypedef void (*rbm_sgemm_t)(char *, char *, int *, int *, int *, float *,
                                 float *, int *, float *, int *, float *,
                                 float *, int *)
    ctypedef void (*rbm_dgemm_t)(char *, char *, int *, int *, int *, double *,
                                 double *, int *, double *, int *, double *,
                                 double *, int *)
    ctypedef struct rbm_layer_f32:
        int kind
        int n
        const float *p[4]
    ctypedef struct rbm_layer_f64:
        int kind
        int n
        const double *p[4]
    ctypedef struct rbm_stream:
        uint32_t key[2]
        uint64_t call

    int rbm_layer_sample_f32(const rbm_layer_f32 *L, int B, const float *I,
                             int ldi, float *x, int ldx, const rbm_stream *s,
                             uint32_t row0, int n_threads)
    int rbm_layer_sample_f64(const rbm_layer_f64 *L, int B, const double *I,
                             int ldi, double *x, int ldx, const rbm_stream *s,
                             uint32_t row0, int n_threads)
    int rbm_layer_moment_f32(const rbm_layer_f32 *L, int B, const float *I,
                             int ldi, float *out, int ldo, int what,
                             int n_threads)
    int rbm_layer_moment_f64(const rbm_layer_f64 *L, int B, const double *I,
                             int ldi, double *out, int ldo, int what,
                             int n_threads)
    int rbm_layer_cgf_f32(const rbm_layer_f32 *L, int B, const float *I,
                          int ldi, double *out, int n_threads)
    int rbm_layer_cgf_f64(const rbm_layer_f64 *L, int B, const double *I,
                          int ldi, double *out, int n_threads)
    int rbm_layer_energy_f32(const rbm_layer_f32 *L, int B, const float *x,
                             int ldx, double *out, int n_threads)
    int rbm_layer_energy_f64(const rbm_layer_f64 *L, int B, const double *x,
                             int ldx, double *out, int n_threads)
    int rbm_gibbs_f32(const rbm_layer_f32 *vis, const rbm_layer_f32 *hid,
                      const float *W, int B, float *v, float *h, float *Ih,
                      float *Iv, int n_steps, const rbm_stream *s,
                      uint32_t row0, int n_clamp, const int *clamp_idx,
                      const float *clamp_val, int clamp_ld, rbm_sgemm_t gemm,
                      int n_threads)
    int rbm_gibbs_f64(const rbm_layer_f64 *vis, const rbm_layer_f64 *hid,
                      const double *W, int B, double *v, double *h,
                      double *Ih, double *Iv, int n_steps,
                      const rbm_stream *s, uint32_t row0, int n_clamp,
                      const int *clamp_idx, const double *clamp_val,
                      int clamp_ld, rbm_dgemm_t gemm, int n_threads)
    int rbm_phase_gradient_f32(const rbm_layer_f32 *vis,
                               const rbm_layer_f32 *hid, const float *W,
                               int B, const float *X, int ldx, const float *c,
                               float *Ih, float *H, float *dW, int accumulate,
                               double *stats_v, double *stats_h,
                               rbm_sgemm_t gemm, int n_threads)
    int rbm_phase_gradient_f64(const rbm_layer_f64 *vis,
                               const rbm_layer_f64 *hid, const double *W,
                               int B, const double *X, int ldx,
                               const double *c, double *Ih, double *H,
                               double *dW, int accumulate, double *stats_v,
                               double *stats_h, rbm_dgemm_t gemm,
                               int n_threads)
    int rbm_free_energy_f32(const rbm_layer_f32 *vis, const rbm_layer_f32 *hid,
                            const float *W, int B, const float *X, int ldx,
                            float *Ih, double *out, rbm_sgemm_t gemm,
                            int n_threads)
    int rbm_free_energy_f64(const rbm_layer_f64 *vis, const rbm_layer_f64 *hid,
                            const double *W, int B, const double *X, int ldx,
                            double *Ih, double *out, rbm_dgemm_t gemm,
                            int n_threads)
    int rbm_adam_f32(size_t n, float *p, const float *g, float *m, float *v,
                     double lr, double beta1, double beta2, double eps, long t,
                     double l2, double l1, int n_threads)
    int rbm_adam_f64(size_t n, double *p, const double *g, double *m,
                     double *v, double lr, double beta1, double beta2,
                     double eps, long t, double l2, double l1, int n_threads)
    int rbm_sgd_f32(size_t n, float *p, const float *g, float *buf, double lr,
                    double momentum, double l2, double l1, int n_threads)
    int rbm_sgd_f64(size_t n, double *p, const double *g, double *buf,
                    double lr, double momentum, double l2, double l1,
                    int n_threads)
    void rbm_erfcx_values(size_t n, const double *t, double *out)
    void rbm_truncated_normal_excess_values(size_t n, const double *alpha,
                                            const double *uniform, double *out)
    void rbm_philox_block(const uint32_t ctr[4], const uint32_t key[2],
                          uint32_t out[4])
    int rbm_has_openmp()

cdef extern from "potts.h" nogil:
    ctypedef struct rbm_potts_f32:
        int n
        int q
        const float *theta
    ctypedef struct rbm_potts_f64:
        int n
        int q
        const double *theta

    int rbm_potts_inputs_h_f32(const rbm_potts_f32 *V, int M, const float *W,
                               int B, const uint8_t *v, int ldv, float *Ih,
                               int n_threads)
    int rbm_potts_inputs_h_f64(const rbm_potts_f64 *V, int M, const double *W,
                               int B, const uint8_t *v, int ldv, double *Ih,
                               int n_threads)
    int rbm_potts_sample_f32(const rbm_potts_f32 *V, int B, const float *Iv,
                             uint8_t *v, int ldv, const rbm_stream *s,
                             uint32_t row0, int n_threads)
    int rbm_potts_sample_f64(const rbm_potts_f64 *V, int B, const double *Iv,
                             uint8_t *v, int ldv, const rbm_stream *s,
                             uint32_t row0, int n_threads)
    int rbm_potts_probabilities_f32(const rbm_potts_f32 *V, int B,
                                    const float *Iv, float *p, int n_threads)
    int rbm_potts_probabilities_f64(const rbm_potts_f64 *V, int B,
                                    const double *Iv, double *p, int n_threads)
    int rbm_potts_cgf_f32(const rbm_potts_f32 *V, int B, const float *Iv,
                          double *out, int n_threads)
    int rbm_potts_cgf_f64(const rbm_potts_f64 *V, int B, const double *Iv,
                          double *out, int n_threads)
    int rbm_potts_gibbs_f32(const rbm_potts_f32 *V, const rbm_layer_f32 *hid,
                            const float *W, int B, uint8_t *v, float *h,
                            float *Ih, float *Iv, int n_steps,
                            const rbm_stream *s, uint32_t row0, int n_clamp,
                            const int *clamp_idx, const float *clamp_val,
                            int clamp_ld, rbm_sgemm_t gemm, int n_threads)
    int rbm_potts_gibbs_f64(const rbm_potts_f64 *V, const rbm_layer_f64 *hid,
                            const double *W, int B, uint8_t *v, double *h,
                            double *Ih, double *Iv, int n_steps,
                            const rbm_stream *s, uint32_t row0, int n_clamp,
                            const int *clamp_idx, const double *clamp_val,
                            int clamp_ld, rbm_dgemm_t gemm, int n_threads)
    int rbm_potts_phase_gradient_f32(const rbm_potts_f32 *V,
                                     const rbm_layer_f32 *hid, const float *W,
                                     int B, const uint8_t *X, int ldx,
                                     const float *c, float *Ih, float *H,
                                     float *dW, int accumulate,
                                     double *stats_v, double *stats_h,
                                     int n_threads)
    int rbm_potts_phase_gradient_f64(const rbm_potts_f64 *V,
                                     const rbm_layer_f64 *hid, const double *W,
                                     int B, const uint8_t *X, int ldx,
                                     const double *c, double *Ih, double *H,
                                     double *dW, int accumulate,
                                     double *stats_v, double *stats_h,
                                     int n_threads)
    int rbm_potts_free_energy_f32(const rbm_potts_f32 *V,
                                  const rbm_layer_f32 *hid, const float *W,
                                  int B, const uint8_t *X, int ldx, float *Ih,
                                  double *out, int n_threads)
    int rbm_potts_free_energy_f64(const rbm_potts_f64 *V,
                                  const rbm_layer_f64 *hid, const double *W,
                                  int B, const uint8_t *X, int ldx, double *Ih,
                                  double *out, int n_threads)
