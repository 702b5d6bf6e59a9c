/* Kernels of RBMs with Potts visible layers (see potts.h and
 * potts_impl.h), in float32 and float64. */
#include <math.h>
#include <stdlib.h>

#include "layers.h"
#include "potts.h"
#include "rng_philox.h"
#include "simd_math.h"

#include "f32.h"
#define POTTS rbm_potts_f32
#include "layer_rows.h"
#include "gemm_rows.h"
#include "gibbs_rows.h"
#include "hidden_stats.h"
#include "potts_impl.h"
#undef POTTS
#include "undef.h"

#include "f64.h"
#define POTTS rbm_potts_f64
#include "layer_rows.h"
#include "gemm_rows.h"
#include "gibbs_rows.h"
#include "hidden_stats.h"
#include "potts_impl.h"
#undef POTTS
#include "undef.h"
