#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "core/error.h"

namespace facet {

// Calls f(T{}) with T the C++ type of a run-time dtype, so a kernel is written once as a
// template and instantiated for each dtype it supports.
template <class F>
decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: break;
  }
  throw Error(op, "a float32 or float64 tensor", std::string("dtype ") + dtype_name(dtype));
}

template <class F>
decltype(auto) dispatch_all(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: break;
  }
  return f(int64_t{});
}

}  // namespace facet
