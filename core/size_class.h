#pragma once
// The size classes of the caching allocators (host and device): multiples of `granularity` below
// `large_from`, above it the next of eight steps per power of two (at most 12.5% slack), so a
// released block serves every later request of its class.
#include <cstddef>

namespace facet {

inline size_t size_class(size_t bytes, size_t granularity, size_t large_from) {
  if (bytes < large_from) return bytes == 0 ? granularity : (bytes + granularity - 1) / granularity * granularity;
  size_t power = large_from;
  while (power * 2 <= bytes) power *= 2;
  const size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

}  // namespace facet
