#pragma once
// Walks N same-shaped strided operands row by row (after core/strided_plan.h merges the dims
// that are contiguous for every operand); rows run in parallel (OpenMP) when the tensor is large
// enough to repay the threads.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/strided_plan.h"

namespace facet::cpu {

inline constexpr int64_t kParallelGrain = 1 << 15;  // elements below which threads cost more than they save

// row(offsets, length, steps): offsets are the element offsets of the piece's first element per
// operand, steps the per-operand stride along the row. Long rows are cut into pieces of
// kParallelGrain elements, so a contiguous tensor (one merged row) still spreads over the threads.
template <size_t N, class Row>
void for_each_row(const Shape& shape, const std::array<Shape, N>& strides, const std::array<int64_t, N>& base,
                  Row&& row) {
  const RowPlan<N> plan = plan_rows(shape, strides);
  const int64_t nd = static_cast<int64_t>(plan.shape.size());
  const int64_t len = plan.shape.back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < nd; ++d) rows *= plan.shape[d];
  std::array<int64_t, N> steps;
  for (size_t k = 0; k < N; ++k) steps[k] = plan.strides[k].back();
  const int64_t piece = len > kParallelGrain ? kParallelGrain : (len > 0 ? len : 1);
  const int64_t pieces_per_row = (len + piece - 1) / piece;
  const int64_t items = rows * pieces_per_row;

#pragma omp parallel for schedule(static) if (items > 1 && rows * len >= kParallelGrain)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t r = item / pieces_per_row, start = (item % pieces_per_row) * piece;
    std::array<int64_t, N> off = base;
    int64_t rem = r;
    for (int64_t d = nd - 2; d >= 0; --d) {
      const int64_t i = rem % plan.shape[d];
      rem /= plan.shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * plan.strides[k][d];
    }
    for (size_t k = 0; k < N; ++k) off[k] += start * steps[k];
    row(off, std::min(piece, len - start), steps);
  }
}

// For dim-wise kernels on a contiguous [outer, n, inner] view: calls lane(first, index) for each
// of the outer * inner lanes, where `first` is the offset of the lane's first element (its
// elements follow at stride inner) and `index` = o * inner + i numbers the lane. Parallel when
// the view is large enough.
template <class Lane>
void for_each_lane(int64_t outer, int64_t n, int64_t inner, Lane&& lane) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * inner > 1 && outer * n * inner >= kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) lane(o * n * inner + i, o * inner + i);
}

}  // namespace facet::cpu
