/* Gradient accumulation and free energies (see gradient_impl.h), in float32
 * and float64. */
#include <math.h>
#include <stdlib.h>

#include "layers.h"
#include "rng_philox.h"
#include "simd_math.h"

#include "f32.h"
#include "layer_rows.h"
#include "gemm_rows.h"
#include "hidden_stats.h"
#include "gradient_impl.h"
#include "undef.h"

#include "f64.h"
#include "layer_rows.h"
#include "gemm_rows.h"
#include "hidden_stats.h"
#include "gradient_impl.h"
#include "undef.h"
