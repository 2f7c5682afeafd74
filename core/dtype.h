#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace facet {

// A run-time field, not a template parameter: one Tensor type for every element type.
// Int64 holds indices and labels (index_select, gather, one_hot, argmax), as in PyTorch.
enum class DType { Float32, Float64, Int64 };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
inline bool is_floating(DType dtype) { return dtype != DType::Int64; }

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::Float32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::Float64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::Int64; };

}  // namespace facet
