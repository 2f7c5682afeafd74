// softmax / log_softmax and L2 normalize (forward and backward) along the middle dim of a
// contiguous [outer, n, inner] view. The max is subtracted before exponentiating, so no input overflows. Floor: one read and
// one write per element (the kernel reads x three times; it stays in cache for rows that fit).
#include <algorithm>
#include <cmath>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

void softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, const Tensor& out) {
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for_each_lane(outer, n, inner, [&](int64_t first, int64_t) {
      const T* p = px + first;
      T* q = po + first;
      double mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, static_cast<double>(p[j * inner]));
      double total = 0;
      for (int64_t j = 0; j < n; ++j) total += std::exp(static_cast<double>(p[j * inner]) - mx);
      if (log) {
        const double log_total = std::log(total);
        for (int64_t j = 0; j < n; ++j) q[j * inner] = static_cast<T>(static_cast<double>(p[j * inner]) - mx - log_total);
      } else {
        for (int64_t j = 0; j < n; ++j) q[j * inner] = static_cast<T>(std::exp(static_cast<double>(p[j * inner]) - mx) / total);
      }
    });
  });
}

void normalize(const Tensor& x, int64_t outer, int64_t n, int64_t inner, double eps, const Tensor& out) {
  dispatch_floating(x.dtype(), "normalize", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for_each_lane(outer, n, inner, [&](int64_t first, int64_t) {
      const T* p = px + first;
      T* q = po + first;
      double sq = 0;
      for (int64_t j = 0; j < n; ++j) sq += static_cast<double>(p[j * inner]) * p[j * inner];
      const double denom = std::max(std::sqrt(sq), eps);
      for (int64_t j = 0; j < n; ++j) q[j * inner] = static_cast<T>(p[j * inner] / denom);
    });
  });
}

void normalize_backward(const Tensor& x, const Tensor& grad, int64_t outer, int64_t n, int64_t inner, double eps,
                        const Tensor& out) {
  dispatch_floating(x.dtype(), "normalize backward", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pg = grad.data<T>();
    T* po = out.data<T>();
    for_each_lane(outer, n, inner, [&](int64_t first, int64_t) {
      double sq = 0, dot = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double xj = px[first + j * inner];
        sq += xj * xj;
        dot += pg[first + j * inner] * xj;
      }
      const double norm = std::sqrt(sq);
      const bool above = norm > eps;
      // Above eps: (g - x (g.x) / |x|^2) / |x|; at or below: g / eps (normalize divides by eps there).
      const double scale = above ? 1.0 / norm : 1.0 / eps, along = above ? dot / sq : 0.0;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t k = first + j * inner;
        po[k] = static_cast<T>((pg[k] - px[k] * along) * scale);
      }
    });
  });
}

}  // namespace facet::cpu
