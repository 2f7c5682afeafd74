#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facet {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);
// Maps a possibly negative dim into [0, ndim); facet::Error naming `op` when out of range.
int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim);
// NumPy broadcasting of two shapes; facet::Error naming `op` when they cannot broadcast.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace facet
