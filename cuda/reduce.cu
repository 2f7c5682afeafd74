// sum / mean / max / argmax over the middle dim of a contiguous [outer, n, inner] view; a
// whole-tensor reduction is outer = inner = 1. Deterministic: a fixed combination order for a
// given shape (no atomics).
// - inner == 1 (rows): pass 1 splits each row into chunks of kChunk elements, one block per chunk
//   (cuda/block_reduce.cuh: warp shuffles, then one warp); pass 2, one block per row, combines the
//   chunk partials. Float sums accumulate in double, int64 sums in int64, as on the CPU.
// - inner > 1 (lanes): one thread per (outer, inner) lane walks n; neighbouring threads read
//   neighbouring addresses, so loads coalesce. With few lanes and a long n (a bias gradient sums
//   [batch, 128] over the batch: 128 threads) n is cut into chunks as well, one thread per lane
//   and chunk, and a second pass combines each lane's chunks in order.
// Floor: one read of x at HBM bandwidth. Measured by bench/cuda_kernels.
#include <cstdint>
#include <type_traits>

#include "core/dispatch.h"
#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/device_buffer.cuh"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

constexpr int64_t kChunk = 8192;

// A running result: the accumulated value and, for max / argmax, the position it came from
// (-1 marks "nothing seen yet").
template <class Acc>
struct Partial {
  Acc value;
  int64_t index;
};

template <Reduce K, class Acc>
__device__ Partial<Acc> identity() {
  return {Acc(0), K == Reduce::Sum || K == Reduce::Mean ? 0 : -1};
}

template <class Acc>
__device__ bool is_nan(Acc v) { return v != v; }

// Sums add. Max keeps the larger value; NaN beats every number (as in PyTorch) and among equals
// (or among NaNs) the smaller index wins, so the result does not depend on the order of combination.
template <Reduce K, class Acc>
__device__ Partial<Acc> combine(Partial<Acc> a, Partial<Acc> b) {
  if constexpr (K == Reduce::Sum || K == Reduce::Mean) {
    return {a.value + b.value, 0};
  } else {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool an = is_nan(a.value), bn = is_nan(b.value);
    if (an != bn) return an ? a : b;
    if (!an && a.value != b.value) return a.value > b.value ? a : b;
    return a.index < b.index ? a : b;
  }
}

template <class Acc>
__device__ Partial<Acc> shuffle_down(Partial<Acc> p, int delta) {
  return {__shfl_down_sync(0xffffffffu, p.value, delta), __shfl_down_sync(0xffffffffu, p.index, delta)};
}

template <Reduce K>
struct Combine {
  template <class Acc>
  __device__ Partial<Acc> operator()(Partial<Acc> a, Partial<Acc> b) const { return combine<K>(a, b); }
};

template <class T>
using AccOf = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

template <Reduce K, class T>
__device__ Partial<AccOf<T>> element(const T* p, int64_t j, int64_t stride) {
  return {static_cast<AccOf<T>>(p[j * stride]), K == Reduce::Sum || K == Reduce::Mean ? 0 : j};
}

template <Reduce K, class Acc, class O>
__device__ O finish(Partial<Acc> p, int64_t n) {
  if constexpr (K == Reduce::Argmax) return static_cast<O>(p.index);
  else if constexpr (K == Reduce::Mean) return static_cast<O>(p.value / static_cast<Acc>(n));
  else return static_cast<O>(p.value);
}

// Pass 1: block b reduces chunk (b % chunks) of row (b / chunks).
template <Reduce K, class T>
__global__ void row_chunks(const T* x, int64_t n, int64_t chunks, Partial<AccOf<T>>* partials) {
  const int64_t row = blockIdx.x / chunks, chunk = blockIdx.x % chunks;
  const int64_t begin = chunk * kChunk, end = begin + kChunk < n ? begin + kChunk : n;
  const T* p = x + row * n;
  Partial<AccOf<T>> acc = identity<K, AccOf<T>>();
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) acc = combine<K>(acc, element<K>(p, j, 1));
  acc = block_reduce(acc, Combine<K>{}, identity<K, AccOf<T>>());
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// Pass 2: block r combines the chunk partials of row r.
template <Reduce K, class Acc, class O>
__global__ void row_finish(const Partial<Acc>* partials, int64_t chunks, int64_t n, O* out) {
  Partial<Acc> acc = identity<K, Acc>();
  for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) acc = combine<K>(acc, partials[blockIdx.x * chunks + c]);
  acc = block_reduce(acc, Combine<K>{}, identity<K, Acc>());
  if (threadIdx.x == 0) out[blockIdx.x] = finish<K, Acc, O>(acc, n);
}

template <Reduce K, class T, class O>
__global__ void lanes(const T* x, int64_t outer, int64_t n, int64_t inner, O* out) {
  FACET_GRID_STRIDE_LOOP(lane, outer * inner) {
    const int64_t o = lane / inner, i = lane % inner;
    const T* p = x + o * n * inner + i;
    Partial<AccOf<T>> acc = identity<K, AccOf<T>>();
    for (int64_t j = 0; j < n; ++j) acc = combine<K>(acc, element<K>(p, j, inner));
    out[lane] = finish<K, AccOf<T>, O>(acc, n);
  }
}

// Chunked lanes, pass 1: work item w is lane w % lanes over chunk w / lanes of n.
template <Reduce K, class T>
__global__ void lane_chunks(const T* x, int64_t n, int64_t inner, int64_t lanes, int64_t chunks,
                            Partial<AccOf<T>>* partials) {
  FACET_GRID_STRIDE_LOOP(w, lanes * chunks) {
    const int64_t lane = w % lanes, chunk = w / lanes;
    const int64_t o = lane / inner, i = lane % inner;
    const T* p = x + o * n * inner + i;
    const int64_t begin = chunk * n / chunks, end = (chunk + 1) * n / chunks;
    Partial<AccOf<T>> acc = identity<K, AccOf<T>>();
    for (int64_t j = begin; j < end; ++j) acc = combine<K>(acc, element<K>(p, j, inner));
    partials[w] = acc;
  }
}

// Pass 2: each lane's chunks in order.
template <Reduce K, class Acc, class O>
__global__ void lane_finish(const Partial<Acc>* partials, int64_t lanes, int64_t chunks, int64_t n, O* out) {
  FACET_GRID_STRIDE_LOOP(lane, lanes) {
    Partial<Acc> acc = identity<K, Acc>();
    for (int64_t c = 0; c < chunks; ++c) acc = combine<K>(acc, partials[c * lanes + lane]);
    out[lane] = finish<K, Acc, O>(acc, n);
  }
}

// Chunks per lane: enough threads to fill the device (132 SMs x 2048), each chunk at least
// kMinLaneChunk long; 1 (no second pass) when the lanes alone fill it.
constexpr int64_t kLaneThreads = 132 * 2048, kMinLaneChunk = 32;
int64_t lane_chunk_count(int64_t lanes, int64_t n) {
  const int64_t by_length = n / kMinLaneChunk, by_threads = kLaneThreads / lanes;
  const int64_t chunks = by_length < by_threads ? by_length : by_threads;
  return chunks < 1 ? 1 : chunks;
}

template <Reduce K, class T, class O>
void launch(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  const int device = out.device().index;
  cudaStream_t s = stream(device);
  const T* px = static_cast<const T*>(x.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  const int64_t lanes_count = outer * inner;
  if (lanes_count == 0) return;
  using Acc = AccOf<T>;
  if (inner > 1 || n < kBlock) {
    const int64_t chunks = lane_chunk_count(lanes_count, n);
    if (chunks == 1) {
      lanes<K, T, O><<<grid_for(lanes_count), kBlock, 0, s>>>(px, outer, n, inner, po);
      FACET_CUDA_CHECK_LAUNCH();
      return;
    }
    DeviceBuffer partials(static_cast<size_t>(lanes_count * chunks) * sizeof(Partial<Acc>), device);
    lane_chunks<K, T><<<grid_for(lanes_count * chunks), kBlock, 0, s>>>(px, n, inner, lanes_count, chunks,
                                                                         partials.as<Partial<Acc>>());
    FACET_CUDA_CHECK_LAUNCH();
    lane_finish<K, Acc, O><<<grid_for(lanes_count), kBlock, 0, s>>>(partials.as<Partial<Acc>>(), lanes_count, chunks,
                                                                    n, po);
    FACET_CUDA_CHECK_LAUNCH();
    return;
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  DeviceBuffer partials(static_cast<size_t>(outer * chunks) * sizeof(Partial<Acc>), device);
  row_chunks<K, T><<<static_cast<unsigned>(outer * chunks), kBlock, 0, s>>>(px, n, chunks, partials.as<Partial<Acc>>());
  FACET_CUDA_CHECK_LAUNCH();
  row_finish<K, Acc, O><<<static_cast<unsigned>(outer), kBlock, 0, s>>>(partials.as<Partial<Acc>>(), chunks, n, po);
  FACET_CUDA_CHECK_LAUNCH();
}

template <class T, class O>
void launch_kind(Reduce kind, const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  switch (kind) {
    case Reduce::Sum: return launch<Reduce::Sum, T, O>(x, outer, n, inner, out);
    case Reduce::Mean: return launch<Reduce::Mean, T, O>(x, outer, n, inner, out);
    case Reduce::Max: return launch<Reduce::Max, T, O>(x, outer, n, inner, out);
    case Reduce::Argmax: return launch<Reduce::Argmax, T, O>(x, outer, n, inner, out);
  }
}

}  // namespace

void reduce(Reduce kind, const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  DeviceGuard guard(out.device().index);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (kind == Reduce::Argmax) launch_kind<T, int64_t>(kind, x, outer, n, inner, out);
    else launch_kind<T, T>(kind, x, outer, n, inner, out);
  });
}

}  // namespace facet::cuda
