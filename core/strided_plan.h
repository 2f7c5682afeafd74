#pragma once
// Merges the dims of N same-shaped strided operands that are contiguous for every one of them,
// so a contiguous tensor becomes one long row and a broadcast operand (stride 0) costs nothing
// extra. Both backends plan their loops with it: the CPU walks rows, the CUDA kernels index the
// merged dims.
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/shape.h"

namespace facet {

template <size_t N>
struct RowPlan {
  Shape shape;                 // merged shape; the last dim is the row
  std::array<Shape, N> strides;
};

template <size_t N>
RowPlan<N> plan_rows(const Shape& shape, const std::array<Shape, N>& strides) {
  RowPlan<N> plan;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !plan.shape.empty();
    for (size_t k = 0; k < N && merge; ++k)
      merge = plan.strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      plan.shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) plan.strides[k].back() = strides[k][d];
    } else {
      plan.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) plan.strides[k].push_back(strides[k][d]);
    }
  }
  if (plan.shape.empty()) {  // a scalar or all-ones shape: one row of one element
    plan.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) plan.strides[k].push_back(1);
  }
  return plan;
}

}  // namespace facet
