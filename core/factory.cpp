#include "core/factory.h"

#include <cmath>
#include <cstring>

#include "core/ops.h"

namespace facet {

Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) FACET_CHECK(s >= 0, "empty", "non-negative sizes", shape_str(shape));
  check_device_exists("empty", device);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(numel_of(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  ops::fill_(t, value);
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor scalar_tensor(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  FACET_CHECK(step != 0 && std::isfinite(step) && std::isfinite(start) && std::isfinite(end), "arange",
              "finite bounds and a non-zero step",
              "start " + std::to_string(start) + ", end " + std::to_string(end) + ", step " + std::to_string(step));
  const double count = std::ceil((end - start) / step);
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = start + static_cast<double>(i) * step;
  return ops::to_device(ops::cast(tensor(values), dtype), device);
}

Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }

namespace {

template <class T>
Tensor from_values(const std::vector<T>& values, const Shape& shape) {
  FACET_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "tensor",
              std::to_string(numel_of(shape)) + " values for shape " + shape_str(shape),
              std::to_string(values.size()) + " values");
  Tensor t = empty(shape, DTypeOf<T>::value);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

}  // namespace

Tensor tensor(const std::vector<float>& v, const Shape& shape) { return from_values(v, shape); }
Tensor tensor(const std::vector<double>& v, const Shape& shape) { return from_values(v, shape); }
Tensor tensor(const std::vector<int64_t>& v, const Shape& shape) { return from_values(v, shape); }
Tensor tensor(const std::vector<float>& v) { return from_values(v, {static_cast<int64_t>(v.size())}); }
Tensor tensor(const std::vector<double>& v) { return from_values(v, {static_cast<int64_t>(v.size())}); }
Tensor tensor(const std::vector<int64_t>& v) { return from_values(v, {static_cast<int64_t>(v.size())}); }

Tensor uniform(const Shape& shape, double lo, double hi, DType dtype, Generator* gen) {
  Tensor t = empty(shape, dtype);
  ops::uniform_(t, lo, hi, gen ? *gen : default_generator());
  return t;
}

Tensor rand(const Shape& shape, DType dtype, Generator* gen) { return uniform(shape, 0.0, 1.0, dtype, gen); }

Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
  Tensor t = empty(shape, dtype);
  ops::normal_(t, 0.0, 1.0, gen ? *gen : default_generator());
  return t;
}

}  // namespace facet
