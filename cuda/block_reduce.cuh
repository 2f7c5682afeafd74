#pragma once
// Block-wide reductions: warp shuffles within each warp, then the first warp over the warps'
// results. The combination order is fixed for a given block size, so results are deterministic.
// T needs a shuffle_down overload; `combine` is a functor.

namespace facet::cuda {

__device__ inline double shuffle_down(double v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }
__device__ inline long long shuffle_down(long long v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }

// Thread 0 receives the block's result.
template <class T, class Combine>
__device__ T block_reduce(T v, Combine combine, T identity) {
  __shared__ T warp_results[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int d = 16; d > 0; d /= 2) v = combine(v, shuffle_down(v, d));
  __syncthreads();  // an earlier call in the same kernel may still be reading warp_results
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  v = threadIdx.x < warps ? warp_results[threadIdx.x] : identity;
  if (warp == 0)
    for (int d = 16; d > 0; d /= 2) v = combine(v, shuffle_down(v, d));
  return v;
}

// Every thread receives the block's result.
template <class T, class Combine>
__device__ T block_all_reduce(T v, Combine combine, T identity) {
  __shared__ T result;
  v = block_reduce(v, combine, identity);
  if (threadIdx.x == 0) result = v;
  __syncthreads();
  return result;
}

struct SumOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};

struct MaxOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

struct MinOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a < b ? a : b; }
};

}  // namespace facet::cuda
