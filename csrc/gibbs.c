/* Block-Gibbs sweeps (see gibbs_impl.h), in float32 and float64. */
#include <math.h>
#include <stdlib.h>

#include "layers.h"
#include "rng_philox.h"
#include "simd_math.h"

#include "f32.h"
#include "layer_rows.h"
#include "gemm_rows.h"
#include "gibbs_rows.h"
#include "gibbs_impl.h"
#include "undef.h"

#include "f64.h"
#include "layer_rows.h"
#include "gemm_rows.h"
#include "gibbs_rows.h"
#include "gibbs_impl.h"
#include "undef.h"
