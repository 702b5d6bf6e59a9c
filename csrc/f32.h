/* Select float32 for the next REAL-templated include (see precision.h). */
#define REAL float
#define SFX f32
#define LAYER rbm_layer_f32
#define GEMM_T rbm_sgemm_t
#define REXP expf
#define RLOG1P log1pf
