// Training-mode batch normalization on the CPU: statistics in two passes per channel (mean, then
// the squared deviations, in double), the normalize-scale-shift pass, and the backward in two
// passes (the channel sums, then the input gradient). Channels run in parallel. With a PReLU
// slope the activation rides along in the same passes (batchnorm + PReLU fused).
#include <cstdint>
#include <vector>

#include "core/batchnorm_math.h"
#include "core/prelu_math.h"
#include "core/dispatch.h"
#include "cpu/cpu.h"

namespace facet::cpu {

namespace {

struct Layout {
  int64_t n, c, inner;
};
Layout layout(const Tensor& x) {
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  return {x.size(0), x.size(1), inner};
}

// Calls fn(row) with the offset of each of channel ch's n rows of `inner` contiguous elements.
// The sums inside run in T across SIMD lanes within a row (a row is at most a plane, 784 values for
// Fashion-MNIST) and in double across rows: twice the lanes of a double accumulator and no
// conversions, in a fixed order for a given build whatever the thread count.
template <class Fn>
void for_channel_rows(const Layout& l, int64_t ch, Fn&& fn) {
  for (int64_t b = 0; b < l.n; ++b) fn((b * l.c + ch) * l.inner);
}

template <class T>
T value_or(const Tensor& t, int64_t ch, T fallback) {
  return t.defined() ? t.data<T>()[ch] : fallback;
}

// PReLU's slope for channel ch: per channel ([C]) or shared ([1]); 0 without a slope (unused).
template <class T>
T slope_of(const Tensor& slope, int64_t ch) {
  return slope.defined() ? slope.data<T>()[slope.numel() == 1 ? 0 : ch] : T(0);
}

}  // namespace

void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) {
  const Layout l = layout(x);
  const double m = static_cast<double>(l.n * l.inner);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
#pragma omp parallel for schedule(static) if (l.c > 1 && l.n * l.c * l.inner >= (1 << 15))
    for (int64_t ch = 0; ch < l.c; ++ch) {
      double sum = 0;
      for_channel_rows(l, ch, [&](int64_t row) {
        const T* v = px + row;
        T row_sum = 0;
#pragma omp simd reduction(+ : row_sum)
        for (int64_t i = 0; i < l.inner; ++i) row_sum += v[i];
        sum += row_sum;
      });
      const double mu = sum / m;
      const T mu_t = static_cast<T>(mu);
      double sq = 0;
      for_channel_rows(l, ch, [&](int64_t row) {
        const T* v = px + row;
        T row_sq = 0;
#pragma omp simd reduction(+ : row_sq)
        for (int64_t i = 0; i < l.inner; ++i) row_sq += (v[i] - mu_t) * (v[i] - mu_t);
        sq += row_sq;
      });
      mean.data<T>()[ch] = static_cast<T>(mu);
      var.data<T>()[ch] = static_cast<T>(sq / m);
    }
  });
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight, const Tensor& bias,
                      const Tensor& slope, double eps, const Tensor& out) {
  const Layout l = layout(x);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (l.c > 1 && l.n * l.c * l.inner >= (1 << 15))
    for (int64_t ch = 0; ch < l.c; ++ch) {
      const T mu = mean.data<T>()[ch], invstd = bn_invstd<T>(var.data<T>()[ch], eps);
      const T w = value_or<T>(weight, ch, T(1)), b = value_or<T>(bias, ch, T(0));
      const T a = slope_of<T>(slope, ch);
      for_channel_rows(l, ch, [&](int64_t row) {
        const T* v = px + row;
        T* o = po + row;
        if (slope.defined()) {
#pragma omp simd
          for (int64_t i = 0; i < l.inner; ++i) o[i] = prelu_fn(bn_forward(v[i], mu, invstd, w, b), a);
        } else {
#pragma omp simd
          for (int64_t i = 0; i < l.inner; ++i) o[i] = bn_forward(v[i], mu, invstd, w, b);
        }
      });
    }
  });
}

// With a slope, `grad` is the gradient of PReLU's output: each pass recomputes the batchnorm
// output y and takes g_y = prelu_grad_x(g, y), so neither y nor g_y is ever stored.
void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& mean, const Tensor& var,
                         const Tensor& weight, const Tensor& bias, const Tensor& slope, double eps,
                         const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                         const Tensor& grad_slope) {
  const Layout l = layout(x);
  const double m = static_cast<double>(l.n * l.inner);
  const bool act = slope.defined();
  std::vector<double> slope_sums(static_cast<size_t>(act ? l.c : 0), 0.0);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pg = grad.data<T>();
#pragma omp parallel for schedule(static) if (l.c > 1 && l.n * l.c * l.inner >= (1 << 15))
    for (int64_t ch = 0; ch < l.c; ++ch) {
      const T mu = mean.data<T>()[ch], invstd = bn_invstd<T>(var.data<T>()[ch], eps);
      const T w = value_or<T>(weight, ch, T(1)), b = value_or<T>(bias, ch, T(0)), a = slope_of<T>(slope, ch);
      double sum_g = 0, sum_gxhat = 0, sum_slope = 0;
      for_channel_rows(l, ch, [&](int64_t row) {
        const T* g = pg + row;
        const T* v = px + row;
        T row_g = 0, row_gxc = 0, row_slope = 0;  // sum(g), sum(g * (x - mean)); invstd is applied once per row
        if (act) {
#pragma omp simd reduction(+ : row_g, row_gxc, row_slope)
          for (int64_t i = 0; i < l.inner; ++i) {
            const T y = bn_forward(v[i], mu, invstd, w, b), gy = prelu_grad_x(g[i], y, a);
            row_g += gy;
            row_gxc += gy * (v[i] - mu);
            row_slope += prelu_grad_slope(g[i], y);
          }
        } else {
#pragma omp simd reduction(+ : row_g, row_gxc)
          for (int64_t i = 0; i < l.inner; ++i) {
            row_g += g[i];
            row_gxc += g[i] * (v[i] - mu);
          }
        }
        sum_g += row_g;
        sum_gxhat += static_cast<double>(row_gxc) * invstd;
        sum_slope += row_slope;
      });
      if (act) slope_sums[ch] = sum_slope;
      if (grad_weight.defined()) grad_weight.data<T>()[ch] = static_cast<T>(sum_gxhat);
      if (grad_bias.defined()) grad_bias.data<T>()[ch] = static_cast<T>(sum_g);
      if (grad_x.defined()) {
        const auto k = bn_grad_coefficients(invstd, w, sum_g, sum_gxhat, m);
        T* pgx = grad_x.data<T>();
        for_channel_rows(l, ch, [&](int64_t row) {
          const T* g = pg + row;
          const T* v = px + row;
          T* o = pgx + row;
          if (act) {
#pragma omp simd
            for (int64_t i = 0; i < l.inner; ++i)
              o[i] = bn_grad_input(prelu_grad_x(g[i], bn_forward(v[i], mu, invstd, w, b), a), v[i], mu, k);
          } else {
#pragma omp simd
            for (int64_t i = 0; i < l.inner; ++i) o[i] = bn_grad_input(g[i], v[i], mu, k);
          }
        });
      }
    }
    // A shared slope sums its channels in order: the same bits whatever the thread count.
    if (act && grad_slope.defined()) {
      T* ps = grad_slope.data<T>();
      if (grad_slope.numel() == 1) {
        double total = 0;
        for (double v : slope_sums) total += v;
        ps[0] = static_cast<T>(total);
      } else {
        for (int64_t ch = 0; ch < l.c; ++ch) ps[ch] = static_cast<T>(slope_sums[ch]);
      }
    }
  });
}

void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const Tensor& num_batches,
                               const Tensor& mean, const Tensor& var, double momentum, int64_t count) {
  dispatch_floating(running_mean.dtype(), "batch_norm running statistics", [&](auto tag) {
    using T = decltype(tag);
    const BnRunningCoefficients<T> k(momentum, static_cast<double>(count));
    T* rm = running_mean.data<T>();
    T* rv = running_var.data<T>();
    const T* bm = mean.data<T>();
    const T* bv = var.data<T>();
    for (int64_t ch = 0; ch < running_mean.numel(); ++ch) {
      rm[ch] = bn_running(rm[ch], k.keep, bm[ch], k.take_mean);
      rv[ch] = bn_running(rv[ch], k.keep, bv[ch], k.take_var);
    }
  });
  if (num_batches.defined()) ++*num_batches.data<int64_t>();
}

}  // namespace facet::cpu
