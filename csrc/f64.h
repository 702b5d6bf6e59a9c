/* Select float64 for the next REAL-templated include (see precision.h). */
#define REAL double
#define SFX f64
#define LAYER rbm_layer_f64
#define GEMM_T rbm_dgemm_t
#define REXP exp
#define RLOG1P log1p
