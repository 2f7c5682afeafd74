// index_select / index_add along a dim, gather / scatter_add along a dim, and one_hot, on
// contiguous operands seen as [outer, n, inner]. One thread per output (select, gather, one_hot)
// or per source element (the adds). The adds use atomicAdd: with repeated indices the order of
// the float additions varies from run to run, so index_add / scatter_add are not bitwise
// deterministic on the GPU (the CPU kernel is). Floor: one read of the source and one
// read-modify-write per element.
#include <cstdint>

#include "core/dispatch.h"
#include "core/fast_divide.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

// The front door queued a range check whose verdict is thrown at the next wait (cuda/index_checks.cu);
// until then an index out of range reads as 0 and adds nothing, never touching memory out of bounds.
__device__ inline bool in_range(int64_t at, int64_t n) { return at >= 0 && at < n; }

// Each kernel splits its element index with Divider: FastDivider when the element count fits
// fits_fast_divide (then every size does too), else WideDivider (launch_index_kernel below).
template <class T, class Divider>
__global__ void index_select_kernel(const T* x, int64_t n, int64_t inner, Divider inner_div, const int64_t* index,
                                    Divider k_div, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = (o * k + j) * inner + i
    const QuotRem i = inner_div.split(e), oj = k_div.split(i.quot);
    const int64_t at = index[oj.rem];
    out[e] = in_range(at, n) ? x[(oj.quot * n + at) * inner + i.rem] : T(0);
  }
}

template <class T, class Divider>
__global__ void index_add_kernel(const int64_t* index, const T* source, int64_t n, int64_t inner, Divider inner_div,
                                 Divider k_div, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const QuotRem i = inner_div.split(e), oj = k_div.split(i.quot);
    const int64_t at = index[oj.rem];
    if (in_range(at, n)) atomicAdd(out + (oj.quot * n + at) * inner + i.rem, source[e]);
  }
}

template <class T, class Divider>
__global__ void gather_kernel(const T* x, int64_t n, int64_t inner, Divider inner_div, const int64_t* index,
                              Divider k_div, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const QuotRem i = inner_div.split(e);
    const int64_t o = k_div.split(i.quot).quot, at = index[e];
    out[e] = in_range(at, n) ? x[(o * n + at) * inner + i.rem] : T(0);
  }
}

template <class T, class Divider>
__global__ void scatter_add_kernel(const int64_t* index, const T* src, int64_t n, int64_t inner, Divider inner_div,
                                   Divider k_div, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const QuotRem i = inner_div.split(e);
    const int64_t o = k_div.split(i.quot).quot, at = index[e];
    if (in_range(at, n)) atomicAdd(out + (o * n + at) * inner + i.rem, src[e]);
  }
}

template <class T, class Divider>
__global__ void one_hot_kernel(const int64_t* labels, Divider classes, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const QuotRem label = classes.split(e);  // (sample, class)
    out[e] = labels[label.quot] == label.rem ? T(1) : T(0);
  }
}

// Runs launch(divider_of, stream) for a kernel over `total` elements on `device` (nothing when
// there are none), then checks the launch: divider_of(n) makes FastDividers when `total` fits
// FastDivider's range (every size a kernel splits by is then 1 .. total), else WideDividers.
template <class Launch>
void launch_index_kernel(int64_t total, int device, Launch&& launch) {
  if (total == 0) return;
  DeviceGuard guard(device);
  if (fits_fast_divide(total))
    launch([](int64_t size) { return FastDivider(size); }, stream(device));
  else
    launch([](int64_t size) { return WideDivider{size}; }, stream(device));
  FACET_CUDA_CHECK_LAUNCH();
}

template <class T>
const T* ptr(const Tensor& t) { return static_cast<const T*>(t.raw_data()); }
template <class T>
T* mut(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

}  // namespace

void index_select(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index, const Tensor& out) {
  const int64_t k = index.numel(), total = outer * k * inner;
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    launch_index_kernel(total, out.device().index, [&](auto divider_of, cudaStream_t s) {
      index_select_kernel<T><<<grid_for(total), kBlock, 0, s>>>(ptr<T>(x), n, inner, divider_of(inner),
                                                                 ptr<int64_t>(index), divider_of(k), total, mut<T>(out));
    });
  });
}

void index_add(const Tensor& index, const Tensor& source, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int64_t k = index.numel(), total = outer * k * inner;
  dispatch_floating(out.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    launch_index_kernel(total, out.device().index, [&](auto divider_of, cudaStream_t s) {
      index_add_kernel<T><<<grid_for(total), kBlock, 0, s>>>(ptr<int64_t>(index), ptr<T>(source), n, inner,
                                                              divider_of(inner), divider_of(k), total, mut<T>(out));
    });
  });
}

void gather(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;  // before k: outer * inner may be 0 too
  const int64_t k = total / (outer * inner);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    launch_index_kernel(total, out.device().index, [&](auto divider_of, cudaStream_t s) {
      gather_kernel<T><<<grid_for(total), kBlock, 0, s>>>(ptr<T>(x), n, inner, divider_of(inner), ptr<int64_t>(index),
                                                           divider_of(k), total, mut<T>(out));
    });
  });
}

void scatter_add(const Tensor& index, const Tensor& src, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;  // before k: outer * inner may be 0 too
  const int64_t k = total / (outer * inner);
  dispatch_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    launch_index_kernel(total, out.device().index, [&](auto divider_of, cudaStream_t s) {
      scatter_add_kernel<T><<<grid_for(total), kBlock, 0, s>>>(ptr<int64_t>(index), ptr<T>(src), n, inner,
                                                                divider_of(inner), divider_of(k), total, mut<T>(out));
    });
  });
}

void one_hot(const Tensor& labels, int64_t num_classes, const Tensor& out) {
  const int64_t total = out.numel();
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    launch_index_kernel(total, out.device().index, [&](auto divider_of, cudaStream_t s) {
      one_hot_kernel<T><<<grid_for(total), kBlock, 0, s>>>(ptr<int64_t>(labels), divider_of(num_classes), total,
                                                            mut<T>(out));
    });
  });
}

}  // namespace facet::cuda
