#pragma once
// Per-element math of training-mode batch normalization, shared by both backends. Per channel,
// over its M values: mean, biased variance var, invstd = 1 / sqrt(var + eps), xhat = (x - mean) *
// invstd, y = xhat * w + b. The backward needs two per-channel sums, sum_g = sum(g) and
// sum_gxhat = sum(g * xhat), then one elementwise pass:
//   dx = w * invstd * (g - sum_g / M - xhat * sum_gxhat / M),  dw = sum_gxhat,  db = sum_g,
// its constants formed per channel in double (bn_grad_coefficients).
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

// The backward's per-channel constants, from the two sums in double, so the elementwise pass is
// dx = scale * (g - mean_g) + xcoef * (x - mean) in T: scale = w * invstd, mean_g = sum_g / M,
// xcoef = -w * invstd^2 * sum_gxhat / M (the xhat term with xhat's invstd folded in).
template <class T>
struct BnGradCoefficients {
  T scale, mean_g, xcoef;
};

template <class T>
FACET_HD inline BnGradCoefficients<T> bn_grad_coefficients(T invstd, T w, double sum_g, double sum_gxhat, double m) {
  const double scale = static_cast<double>(w) * invstd;
  return {static_cast<T>(scale), static_cast<T>(sum_g / m), static_cast<T>(-scale * invstd * sum_gxhat / m)};
}

template <class T>
FACET_HD inline T bn_grad_input(T g, T x, T mean, const BnGradCoefficients<T>& k) {
  return k.scale * (g - k.mean_g) + k.xcoef * (x - mean);
}

// The running statistics' update of training mode (torch.nn.BatchNorm's): per channel
//   running_mean = (1 - momentum) * running_mean + momentum * mean
//   running_var  = (1 - momentum) * running_var  + momentum * M / (M - 1) * var   (var unbiased)
// with the coefficients rounded to T and each product and the sum rounded on its own, as the same
// update composed of elementwise ops rounds it.
template <class T>
struct BnRunningCoefficients {
  T keep, take_mean, take_var;
  FACET_HD BnRunningCoefficients(double momentum, double m)
      : keep(static_cast<T>(1 - momentum)),
        take_mean(static_cast<T>(momentum)),
        take_var(static_cast<T>(momentum * m / (m - 1))) {}
};

template <class T>
FACET_HD inline T bn_running(T running, T keep, T batch, T take) {
  return hd::mul_add(batch, take, running * keep);
}

}  // namespace facet
