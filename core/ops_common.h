#pragma once
// Checks shared by the front-door ops (core/ops_*.cpp). Internal to core/.
#include <string>

#include "core/ops.h"

namespace facet::ops::detail {

void check_defined(const char* op, const Tensor& t, const char* name);
// Same device and same dtype, with both tensors named in the message.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t);
void check_dtype(const char* op, const Tensor& t, DType dtype, const char* name);

// Runs the CPU body for CPU tensors; a CUDA tensor reaching an op that has no CUDA body yet is a
// facet::Error, never a silent host access to device memory.
template <class CpuBody>
void dispatch(const char* op, const Tensor& t, CpuBody&& cpu_body) {
  if (t.device().is_cpu()) {
    cpu_body();
    return;
  }
  throw Error(op, "a CPU tensor (this op has no CUDA kernel in this build yet)", t.describe());
}

// Sizes of the dims before, at and after `dim`: every dim-wise kernel sees [outer, n, inner].
struct DimSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
DimSplit split_at(const Shape& shape, int64_t dim);

// Shape with dim removed, or kept as 1.
Shape reduced_shape(const Shape& shape, int64_t dim, bool keepdim);

// facet::Error unless every value of an int64 index tensor lies in [0, bound).
void check_index_range(const char* op, const Tensor& index, int64_t bound, const std::string& what);

}  // namespace facet::ops::detail
