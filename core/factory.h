#pragma once
#include <cstdint>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace facet {

// Factories in libtorch's spirit: a shape, then the dtype, then the device.
Tensor empty(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = kFloat32, Device device = Device::cpu());
// A 0-d tensor holding one value.
Tensor scalar_tensor(double value, DType dtype = kFloat32, Device device = Device::cpu());
// [start, end) in steps of `step`, as torch.arange.
Tensor arange(double start, double end, double step = 1.0, DType dtype = kFloat32,
              Device device = Device::cpu());
inline Tensor arange(double end, DType dtype = kFloat32) { return arange(0.0, end, 1.0, dtype); }

Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);

// Copies host values into a new tensor of the given shape (the vector's length must match).
Tensor tensor(const std::vector<float>& values, const Shape& shape);
Tensor tensor(const std::vector<double>& values, const Shape& shape);
Tensor tensor(const std::vector<int64_t>& values, const Shape& shape);
// A 1-d tensor of the values.
Tensor tensor(const std::vector<float>& values);
Tensor tensor(const std::vector<double>& values);
Tensor tensor(const std::vector<int64_t>& values);

// Philox-backed draws; `gen` defaults to default_generator().
Tensor rand(const Shape& shape, DType dtype = kFloat32, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype = kFloat32, Generator* gen = nullptr);
Tensor uniform(const Shape& shape, double lo, double hi, DType dtype = kFloat32, Generator* gen = nullptr);

}  // namespace facet
