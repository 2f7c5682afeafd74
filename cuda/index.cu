// index_select / index_add along a dim, gather / scatter_add along a dim, and one_hot, on
// contiguous operands seen as [outer, n, inner]. One thread per output (select, gather, one_hot)
// or per source element (the adds). The adds use atomicAdd: with repeated indices the order of
// the float additions varies from run to run, so index_add / scatter_add are not bitwise
// deterministic on the GPU (the CPU kernel is). Floor: one read of the source and one
// read-modify-write per element.
#include <cstdint>

#include "core/dispatch.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

// The front door queued a range check whose verdict is thrown at the next wait (cuda/index_checks.cu);
// until then an index out of range reads as 0 and adds nothing, never touching memory out of bounds.
__device__ inline bool in_range(int64_t at, int64_t n) { return at >= 0 && at < n; }

template <class T>
__global__ void index_select_kernel(const T* x, int64_t n, int64_t inner, const int64_t* index, int64_t k,
                                    int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = (o * k + j) * inner + i
    const int64_t i = e % inner, j = (e / inner) % k, o = e / (inner * k);
    const int64_t at = index[j];
    out[e] = in_range(at, n) ? x[(o * n + at) * inner + i] : T(0);
  }
}

template <class T>
__global__ void index_add_kernel(const int64_t* index, const T* source, int64_t n, int64_t inner, int64_t k,
                                 int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, j = (e / inner) % k, o = e / (inner * k);
    const int64_t at = index[j];
    if (in_range(at, n)) atomicAdd(out + (o * n + at) * inner + i, source[e]);
  }
}

template <class T>
__global__ void gather_kernel(const T* x, int64_t n, int64_t inner, const int64_t* index, int64_t k, int64_t total,
                              T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, o = e / (inner * k);
    const int64_t at = index[e];
    out[e] = in_range(at, n) ? x[(o * n + at) * inner + i] : T(0);
  }
}

template <class T>
__global__ void scatter_add_kernel(const int64_t* index, const T* src, int64_t n, int64_t inner, int64_t k,
                                   int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, o = e / (inner * k);
    const int64_t at = index[e];
    if (in_range(at, n)) atomicAdd(out + (o * n + at) * inner + i, src[e]);
  }
}

template <class T>
__global__ void one_hot_kernel(const int64_t* labels, int64_t classes, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) out[e] = labels[e / classes] == e % classes ? T(1) : T(0);
}

template <class T>
const T* ptr(const Tensor& t) { return static_cast<const T*>(t.raw_data()); }
template <class T>
T* mut(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

}  // namespace

void index_select(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index, const Tensor& out) {
  const int64_t k = index.numel(), total = outer * k * inner;
  if (total == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    index_select_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(ptr<T>(x), n, inner, ptr<int64_t>(index), k,
                                                                            total, mut<T>(out));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void index_add(const Tensor& index, const Tensor& source, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int64_t k = index.numel(), total = outer * k * inner;
  if (total == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(out.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    index_add_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(ptr<int64_t>(index), ptr<T>(source), n, inner, k,
                                                                         total, mut<T>(out));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void gather(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;
  const int64_t k = total / (outer * inner);
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    gather_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(ptr<T>(x), n, inner, ptr<int64_t>(index), k, total,
                                                                      mut<T>(out));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void scatter_add(const Tensor& index, const Tensor& src, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;
  const int64_t k = total / (outer * inner);
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    scatter_add_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(ptr<int64_t>(index), ptr<T>(src), n, inner, k,
                                                                           total, mut<T>(out));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void one_hot(const Tensor& labels, int64_t num_classes, const Tensor& out) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    one_hot_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(ptr<int64_t>(labels), num_classes, total, mut<T>(out));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
