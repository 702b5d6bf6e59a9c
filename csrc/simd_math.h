/* SIMD variants of expf / exp from glibc's libmvec.
 *
 * glibc declares them only under -ffast-math, which rbmfast does not use
 * because the kernels need IEEE infinities and NaN.  Declaring the simd
 * attribute here lets `#pragma omp simd` loops call the vector functions
 * (e.g. _ZGVbN4v_expf) while everything else keeps strict IEEE semantics.
 * RBM_USE_LIBMVEC is set by the build when libmvec is found.
 */
#ifndef RBMFAST_SIMD_MATH_H
#define RBMFAST_SIMD_MATH_H
#include <math.h>
#if defined(RBM_USE_LIBMVEC) && defined(__GNUC__) && defined(__x86_64__)
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) double exp(double);
#endif
#endif
