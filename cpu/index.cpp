// index_select / index_add along a dim, gather / scatter_add along a dim, and one_hot. Operands
// are contiguous and seen as [outer, n, inner]; the front door has range-checked every index.
// The adds run serially along the indexed dim, so repeated indices accumulate deterministically.
#include <algorithm>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

void index_select(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index, const Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  const int64_t k = index.numel();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for collapse(2) schedule(static) if (outer * k * inner >= kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j) {
        const T* src = px + (o * n + idx[j]) * inner;
        T* dst = po + (o * k + j) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
      }
  });
}

void index_add(const Tensor& index, const Tensor& source, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  const int64_t k = index.numel();
  dispatch_floating(out.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    const T* ps = source.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (outer > 1 && outer * k * inner >= kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j) {
        const T* src = ps + (o * k + j) * inner;
        T* dst = po + (o * n + idx[j]) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
  });
}

void gather(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index, const Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  const int64_t k = index.numel() / std::max<int64_t>(outer * inner, 1);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (outer * k * inner >= kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t at = (o * k + j) * inner + i;
          po[at] = px[(o * n + idx[at]) * inner + i];
        }
  });
}

void scatter_add(const Tensor& index, const Tensor& src, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  const int64_t k = index.numel() / std::max<int64_t>(outer * inner, 1);
  dispatch_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    const T* ps = src.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (outer > 1 && outer * k * inner >= kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t at = (o * k + j) * inner + i;
          po[(o * n + idx[at]) * inner + i] += ps[at];
        }
  });
}

void one_hot(const Tensor& labels, int64_t num_classes, const Tensor& out) {
  const int64_t* lab = labels.data<int64_t>();
  const int64_t n = labels.numel();
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* po = out.data<T>();
    for (int64_t i = 0; i < n * num_classes; ++i) po[i] = T(0);
    for (int64_t i = 0; i < n; ++i) po[i * num_classes + lab[i]] = T(1);
  });
}

}  // namespace facet::cpu
