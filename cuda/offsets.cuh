#pragma once
// Element offsets of N same-shaped strided operands inside a kernel: the host merges dims with
// core/strided_plan.h, and each thread turns its linear index into one offset per operand.
#include <array>
#include <string>

#include "core/error.h"
#include "core/fast_divide.h"
#include "core/strided_plan.h"

namespace facet::cuda {

inline constexpr int kMaxDims = 16;

// The linear index is split into per-dim indices with core/fast_divide.h's 32-bit division when
// the tensor has fewer than 2^31 elements (a 64-bit division per dim per element costs more than
// a memory-bound kernel may spend), and with none for a single dim (a scalar or broadcast operand
// beside a contiguous one merges to one dim).
template <int N>
struct Offsets {
  int ndim = 0;
  bool narrow = false;  // fits_fast_divide(the element count): the `divide` path
  int64_t sizes[kMaxDims];
  FastDivider divide[kMaxDims];
  int64_t strides[N][kMaxDims];
  int64_t base[N];

  __device__ void at(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = base[k];
    if (ndim == 1) {
      for (int k = 0; k < N; ++k) off[k] += i * strides[k][0];
      return;
    }
    if (narrow) {
      uint32_t rest = static_cast<uint32_t>(i);
      for (int d = ndim - 1; d >= 0; --d) {
        const uint32_t quotient = divide[d].divide(rest);
        const int64_t idx = divide[d].remainder(rest, quotient);
        rest = quotient;
        for (int k = 0; k < N; ++k) off[k] += idx * strides[k][d];
      }
      return;
    }
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
  int64_t count = 1;
  for (int d = 0; d < nd; ++d) {
    o.sizes[d] = plan.shape[d];
    count *= plan.shape[d];
    for (int k = 0; k < N; ++k) o.strides[k][d] = plan.strides[k][d];
  }
  o.narrow = count > 0 && fits_fast_divide(count);  // every size is then >= 1 and < 2^31
  if (o.narrow)
    for (int d = 0; d < nd; ++d) o.divide[d] = FastDivider(plan.shape[d]);
  for (int k = 0; k < N; ++k) o.base[k] = base[k];
  return o;
}

// Whether, after merging, the operands are one run each with these strides (1: contiguous, 0: one
// element broadcast over the run).
template <int N>
bool one_run_with_strides(const Offsets<N>& o, const std::array<int64_t, N>& strides) {
  if (o.ndim != 1) return false;
  for (int k = 0; k < N; ++k)
    if (o.strides[k][0] != strides[k]) return false;
  return true;
}

// Whether every operand is one contiguous run (after merging): the vectorized fast path.
template <int N>
bool all_contiguous(const Offsets<N>& o) {
  std::array<int64_t, N> ones;
  ones.fill(1);
  return one_run_with_strides<N>(o, ones);
}

#define FACET_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace facet::cuda
