#pragma once
// Per-element math of training-mode batch normalization, shared by both backends. Per channel,
// over its M values: mean, biased variance var, invstd = 1 / sqrt(var + eps), xhat = (x - mean) *
// invstd, y = xhat * w + b. The backward needs two per-channel sums, sum_g = sum(g) and
// sum_gxhat = sum(g * xhat), then one elementwise pass:
//   dx = w * invstd * (g - sum_g / M - xhat * sum_gxhat / M),  dw = sum_gxhat,  db = sum_g.
#include "core/hd.h"
#include "core/hd_math.h"

namespace facet {

template <class T>
FACET_HD inline T bn_invstd(double var, double eps) {
  return static_cast<T>(1.0 / hd::sqrt(var + eps));
}

template <class T>
FACET_HD inline T bn_forward(T x, T mean, T invstd, T w, T b) {
  return (x - mean) * invstd * w + b;
}

template <class T>
FACET_HD inline T bn_grad_input(T g, T x, T mean, T invstd, T w, double sum_g, double sum_gxhat, double m) {
  const double xhat = static_cast<double>(x - mean) * invstd;
  return static_cast<T>(static_cast<double>(w) * invstd * (g - sum_g / m - xhat * sum_gxhat / m));
}

}  // namespace facet
