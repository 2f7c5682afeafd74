// The fused margin softmax cross-entropy (core/margin_math.h): for each row of x [B, C], the
// margin at the label, the scale, the log-sum-exp and the loss in one pass over the row (plus one
// for the max); the log-sum-exp is kept in double, and the backward writes dL/dx in one more pass from the saved log-sum-exp. No one-hot
// and no logit matrix is ever stored. Rows run in parallel; each row accumulates in double.
// Floor: forward reads x once (B·C·4 bytes), backward reads x and writes dx once (B·C·8 bytes).
#include <algorithm>
#include <cmath>

#include "core/dispatch.h"
#include "cpu/cpu.h"

namespace facet::cpu {

void margin_ce_forward(const Tensor& x, const Tensor& labels, const MarginSpec& spec, double smoothing,
                       const Tensor& loss, const Tensor& lse) {
  const int64_t rows = x.size(0), classes = x.size(1);
  dispatch_floating(x.dtype(), "margin_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const int64_t* py = labels.data<int64_t>();
    T* ploss = loss.data<T>();
    double* plse = lse.data<double>();
#pragma omp parallel for schedule(static) if (rows * classes >= (1 << 15))
    for (int64_t i = 0; i < rows; ++i) {
      const T* row = px + i * classes;
      const int64_t y = py[i];
      const double target = margin_logit(spec, row[y], true);
      double mx = target;
      for (int64_t j = 0; j < classes; ++j)
        if (j != y) mx = std::max(mx, spec.scale * static_cast<double>(row[j]));
      double total = 0, logit_sum = 0;
      for (int64_t j = 0; j < classes; ++j) {
        const double z = j == y ? target : spec.scale * static_cast<double>(row[j]);
        total += std::exp(z - mx);
        logit_sum += z;
      }
      const double row_lse = mx + std::log(total);
      plse[i] = row_lse;
      ploss[i] = static_cast<T>(margin_row_loss(row_lse, target, logit_sum, smoothing, static_cast<double>(classes)));
    }
  });
}

void margin_ce_backward(const Tensor& x, const Tensor& labels, const Tensor& lse, const Tensor& row_grad,
                        const MarginSpec& spec, double smoothing, const Tensor& grad_x) {
  const int64_t rows = x.size(0), classes = x.size(1);
  dispatch_floating(x.dtype(), "margin_cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const int64_t* py = labels.data<int64_t>();
    const double* plse = lse.data<double>();
    const T* pg = row_grad.data<T>();
    T* pdx = grad_x.data<T>();
#pragma omp parallel for schedule(static) if (rows * classes >= (1 << 15))
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t y = py[i];
      const double row_lse = plse[i], g = pg[i];
      for (int64_t j = 0; j < classes; ++j)
        pdx[i * classes + j] = static_cast<T>(
            margin_ce_grad(spec, px[i * classes + j], j == y, row_lse, g, smoothing, static_cast<double>(classes)));
    }
  });
}

void margin_target(const Tensor& x, const MarginSpec& spec, bool slope, const Tensor& out) {
  dispatch_floating(x.dtype(), "margin_target", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      const MarginTarget t = facet::margin_target(spec, px[i]);
      po[i] = static_cast<T>(slope ? t.slope : t.value);
    }
  });
}

}  // namespace facet::cpu
