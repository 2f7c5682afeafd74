#pragma once
// Element offsets of N same-shaped strided operands inside a kernel: the host merges dims with
// core/strided_plan.h, and each thread turns its linear index into one offset per operand.
#include <array>
#include <string>

#include "core/error.h"
#include "core/strided_plan.h"

namespace facet::cuda {

inline constexpr int kMaxDims = 16;

template <int N>
struct Offsets {
  int ndim = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];
  int64_t base[N];

  __device__ void at(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = base[k];
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t idx = i % sizes[d];
      i /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += idx * strides[k][d];
    }
  }
};

template <int N>
Offsets<N> make_offsets(const Shape& shape, const std::array<Shape, N>& strides, const std::array<int64_t, N>& base) {
  const RowPlan<N> plan = plan_rows<N>(shape, strides);
  const int nd = static_cast<int>(plan.shape.size());
  FACET_CHECK(nd <= kMaxDims, "cuda kernel", "at most 16 dims after merging contiguous ones",
              std::to_string(nd) + " dims for shape " + shape_str(shape) + " (reshape to fewer dims)");
  Offsets<N> o;
  o.ndim = nd;
  for (int d = 0; d < nd; ++d) {
    o.sizes[d] = plan.shape[d];
    for (int k = 0; k < N; ++k) o.strides[k][d] = plan.strides[k][d];
  }
  for (int k = 0; k < N; ++k) o.base[k] = base[k];
  return o;
}

// Whether every operand is one contiguous run (after merging): the vectorized fast path.
template <int N>
bool all_contiguous(const Offsets<N>& o) {
  if (o.ndim != 1) return false;
  for (int k = 0; k < N; ++k)
    if (o.strides[k][0] != 1) return false;
  return true;
}

#define FACET_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace facet::cuda
