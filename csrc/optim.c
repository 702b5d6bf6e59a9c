/* Optimiser steps (see optim_impl.h), in float32 and float64. */
#include <math.h>
#include <stddef.h>

#include "simd_math.h"

#include "layers.h"

#include "f32.h"
#include "precision.h"
#include "optim_impl.h"
#include "undef.h"

#include "f64.h"
#include "optim_impl.h"
#include "undef.h"
