#pragma once
// PReLU's per-element math, for both backends: y = x > 0 ? x : a * x. At x = 0 the input's
// gradient is a * g and the slope's is g * x (= 0), as in PyTorch. Both products are formed before
// the choice, so the choice is a select: with the branch GCC may not if-convert a float multiply
// (-ftrapping-math), and a scalar loop with a 50/50 branch ran 10x slower than a copy.
#include "core/hd.h"

namespace facet {

template <class T>
FACET_HD inline T prelu_fn(T x, T a) {
  const T ax = a * x;
  return x > T(0) ? x : ax;
}
template <class T>
FACET_HD inline T prelu_grad_x(T g, T x, T a) {
  const T ag = a * g;
  return x > T(0) ? g : ag;
}
template <class T>
FACET_HD inline T prelu_grad_slope(T g, T x) {
  const T gx = g * x;
  return x > T(0) ? T(0) : gx;
}

}  // namespace facet
