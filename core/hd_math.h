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

}  // namespace facet::hd
