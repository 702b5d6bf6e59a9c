/* Name mangling for REAL-templated kernel headers: FN(name) is name_f32 or
 * name_f64 after f32.h or f64.h selected the precision. */
#ifndef RBMFAST_PRECISION_H
#define RBMFAST_PRECISION_H
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)
#endif
