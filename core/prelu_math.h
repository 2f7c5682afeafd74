#pragma once
// PReLU's per-element math, for both backends: y = x > 0 ? x : a * x. At x = 0 the input's
// gradient is a * g and the slope's is g * x (= 0), as in PyTorch.
#include "core/hd.h"

namespace facet {

template <class T>
FACET_HD inline T prelu_fn(T x, T a) {
  return x > T(0) ? x : a * x;
}
template <class T>
FACET_HD inline T prelu_grad_x(T g, T x, T a) {
  return x > T(0) ? g : a * g;
}
template <class T>
FACET_HD inline T prelu_grad_slope(T g, T x) {
  return x > T(0) ? T(0) : g * x;
}

}  // namespace facet
