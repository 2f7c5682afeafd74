#pragma once
// Checks shared by the front-door ops (core/ops_*.cpp). Internal to core/.
#include <string>

#include "core/ops.h"
#include "cpu/cpu.h"
#include "cuda/cuda.h"

namespace facet::ops::detail {

void check_defined(const char* op, const Tensor& t, const char* name);
// A front door's output, after checking (in the op's name) that the device can be used here.
Tensor output(const char* op, const Shape& shape, DType dtype, Device device);
// Same device and same dtype, with both tensors named in the message.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t);
void check_dtype(const char* op, const Tensor& t, DType dtype, const char* name);

// Runs the kernel `name` of the tensor's backend, cpu::name(...) or cuda::name(...): both
// implement core/backend_kernels.h with the same signatures.
#define FACET_DISPATCH(op, t, name, ...)                          \
  do {                                                            \
    ::facet::check_device_exists((op), (t).device());             \
    if ((t).device().is_cpu()) ::facet::cpu::name(__VA_ARGS__);   \
    else ::facet::cuda::name(__VA_ARGS__);                        \
  } while (0)

// Sizes of the dims before, at and after `dim`: every dim-wise kernel sees [outer, n, inner].
struct DimSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
DimSplit split_at(const Shape& shape, int64_t dim);

// Shape with dim removed, or kept as 1.
Shape reduced_shape(const Shape& shape, int64_t dim, bool keepdim);

// Every value of an int64 index in [0, bound), else a facet::Error naming the first bad one: at once
// on the CPU; for a CUDA index at the stream's next wait (core/deferred_checks.h).
void check_index_range(const char* op, const Tensor& index, int64_t bound, const std::string& what);

}  // namespace facet::ops::detail
