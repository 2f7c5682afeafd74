#pragma once
// Float/double overloads of the C math functions that resolve the same way under g++ and nvcc,
// so shared per-element code never silently promotes float to double on one backend only.
#include <math.h>

#include "core/hd.h"

namespace facet::hd {

#define FACET_HD_UNARY(name)                                            \
  FACET_HD inline float name(float x) { return ::name##f(x); }          \
  FACET_HD inline double name(double x) { return ::name(x); }
FACET_HD_UNARY(exp)
FACET_HD_UNARY(log)
FACET_HD_UNARY(sqrt)
FACET_HD_UNARY(tanh)
FACET_HD_UNARY(cos)
FACET_HD_UNARY(sin)
FACET_HD_UNARY(fabs)
#undef FACET_HD_UNARY

FACET_HD inline float pow(float x, float y) { return ::powf(x, y); }
FACET_HD inline double pow(double x, double y) { return ::pow(x, y); }

template <class T>
FACET_HD inline bool isnan(T x) { return x != x; }

// a * b + c with two roundings on both backends: nvcc would otherwise fuse it into one FMA on the
// device while the host (built with -ffp-contract=off) rounds twice, and results that must match
// bit for bit (the random streams) would differ in the last bit.
FACET_HD inline float mul_add(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(__fmul_rn(a, b), c);
#else
  return a * b + c;
#endif
}
FACET_HD inline double mul_add(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(__dmul_rn(a, b), c);
#else
  return a * b + c;
#endif
}

}  // namespace facet::hd
