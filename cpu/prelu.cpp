// PReLU forward and backward in one pass each (core/prelu_math.h per element). Floor: forward
// reads x and writes y; backward reads g and x and writes grad x, with the slope's gradient summed
// on the way. The composed version (gt, mul, where forward; six full-size ops backward) moved 4-5
// times those bytes. The slope's gradient is summed in double per row (in SIMD lanes, then the
// lanes), then per channel over the rows in order, so it is deterministic whatever the thread count.
#include "cpu/prelu.h"

#include <vector>

#include "core/dispatch.h"
#include "core/prelu_math.h"

namespace facet::cpu {

void prelu(const Tensor& x, const Tensor& slope, int64_t outer, int64_t channels, int64_t inner, const Tensor& out) {
  const bool shared = slope.numel() == 1;
  dispatch_floating(x.dtype(), "prelu", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pa = slope.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (outer * channels > 1 && outer * channels * inner >= (1 << 15))
    for (int64_t row = 0; row < outer * channels; ++row) {
      const T a = pa[shared ? 0 : row % channels];
      const T* in = px + row * inner;
      T* o = po + row * inner;
#pragma omp simd
      for (int64_t i = 0; i < inner; ++i) o[i] = prelu_fn(in[i], a);
    }
  });
}

void prelu_backward(const Tensor& grad, const Tensor& x, const Tensor& slope, int64_t outer, int64_t channels,
                    int64_t inner, const Tensor& grad_x, const Tensor& grad_slope) {
  const bool shared = slope.numel() == 1;
  dispatch_floating(x.dtype(), "prelu backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = grad.data<T>();
    const T* px = x.data<T>();
    const T* pa = slope.data<T>();
    T* pgx = grad_x.defined() ? grad_x.data<T>() : nullptr;
    const int64_t rows = outer * channels;
    std::vector<double> row_sums(static_cast<size_t>(rows), 0.0);
#pragma omp parallel for schedule(static) if (rows > 1 && rows * inner >= (1 << 15))
    for (int64_t row = 0; row < rows; ++row) {
      const T a = pa[shared ? 0 : row % channels];
      const T* g = pg + row * inner;
      const T* in = px + row * inner;
      if (pgx) {
        T* o = pgx + row * inner;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) o[i] = prelu_grad_x(g[i], in[i], a);
      }
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < inner; ++i) s += static_cast<double>(prelu_grad_slope(g[i], in[i]));
      row_sums[row] = s;
    }
    T* ps = grad_slope.data<T>();
    std::vector<double> sums(static_cast<size_t>(grad_slope.numel()), 0.0);
    for (int64_t row = 0; row < rows; ++row) sums[shared ? 0 : row % channels] += row_sums[row];
    for (size_t c = 0; c < sums.size(); ++c) ps[c] = static_cast<T>(sums[c]);
  });
}

}  // namespace facet::cpu
