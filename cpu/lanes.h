#pragma once
// The AVX-512 lane mask of a vector's first n of 16 lanes, for the masked loads and stores that
// handle a row's tail (cpu/gemm_f32.cpp, cpu/conv.cpp): none for n <= 0, all for n >= 16. A plain
// 16-bit integer, so this header needs no intrinsics.
#include <cstdint>

namespace facet::cpu {

inline uint16_t first_lanes(int64_t n) { return n >= 16 ? uint16_t(0xFFFF) : n <= 0 ? uint16_t(0) : uint16_t((1u << n) - 1); }

}  // namespace facet::cpu
