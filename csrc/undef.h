/* Clear the precision selected by f32.h or f64.h. */
#undef REAL
#undef SFX
#undef LAYER
#undef GEMM_T
#undef REXP
#undef RLOG1P
