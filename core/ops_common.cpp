#include "core/ops_common.h"

#include "core/deferred_checks.h"
#include "core/factory.h"
#include "cuda/runtime.h"

namespace facet::ops::detail {

void check_defined(const char* op, const Tensor& t, const char* name) {
  FACET_CHECK(t.defined(), op, std::string("a defined tensor for ") + name, "an undefined tensor");
}

Tensor output(const char* op, const Shape& shape, DType dtype, Device device) {
  check_device_exists(op, device);
  return empty(shape, dtype, device);
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  FACET_CHECK(a.device() == b.device(), op, "tensors on one device",
              a.describe() + " and " + b.describe());
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  FACET_CHECK(a.dtype() == b.dtype(), op, "tensors of one dtype (convert with .to(dtype))",
              a.describe() + " and " + b.describe());
}

void check_floating(const char* op, const Tensor& t) {
  FACET_CHECK(is_floating(t.dtype()), op, "a float32 or float64 tensor", t.describe());
}

void check_dtype(const char* op, const Tensor& t, DType dtype, const char* name) {
  FACET_CHECK(t.dtype() == dtype, op, std::string(name) + " of dtype " + dtype_name(dtype), t.describe());
}

DimSplit split_at(const Shape& shape, int64_t dim) {
  DimSplit s;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) s.outer *= shape[d];
    else if (d == dim) s.n = shape[d];
    else s.inner *= shape[d];
  }
  return s;
}

Shape reduced_shape(const Shape& shape, int64_t dim, bool keepdim) {
  Shape out = shape;
  if (out.empty()) return out;
  if (keepdim) out[dim] = 1;
  else out.erase(out.begin() + dim);
  return out;
}

void check_index_range(const char* op, const Tensor& index, int64_t bound, const std::string& what) {
  check_dtype(op, index, kInt64, "an index tensor");
  const std::string expected = what + " in [0, " + std::to_string(bound) + ")";
  const Tensor idx = contiguous(index);
  if (idx.numel() == 0) return;
  if (idx.device().is_cuda()) {
    // No copy to the host and no wait: the verdict is read, and a bad value thrown, at the next
    // wait on the stream (cuda/index_checks.cu); the kernels that use the index skip such values.
    cuda::check_index_range(static_cast<const int64_t*>(idx.raw_data()), idx.numel(), bound, idx.device().index,
                            {op, expected, index.describe()});
    return;
  }
  const int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    if (p[i] < 0 || p[i] >= bound) throw index_range_error(op, expected, p[i], i, index.describe());
}

}  // namespace facet::ops::detail
