/* Layer kernels: sampling, conditional moments, cgf and energy, in float32
 * and float64. */
#include <math.h>
#include <stdlib.h>

#include "layers.h"
#include "rng_philox.h"
#include "simd_math.h"

#include "f32.h"
#include "layer_rows.h"
#include "layer_batch.h"
#include "undef.h"

#include "f64.h"
#include "layer_rows.h"
#include "layer_batch.h"
#include "undef.h"
