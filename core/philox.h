#pragma once
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
// a counter-based generator, so element i of a random tensor is a pure function of
// (seed, counter) and the CPU loop and a CUDA thread produce the same stream.
//
// Stream layout, shared by both backends: a tensor of n elements drawn at generator offset o
// uses the blocks philox(key = seed, counter = o + j) for j = 0, 1, ...; float32 takes one 32-bit
// word per element (4 per block), float64 two words (2 per block).
#include <cstdint>

#include "core/hd.h"
#include "core/hd_math.h"

namespace facet::philox {

struct Block {
  uint32_t w[4];
};

FACET_HD inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// The full generator: a 128-bit counter and a 64-bit key (checked against Random123's
// published known-answer vectors in tests/test_random.cpp).
FACET_HD inline Block philox4x32_10(Block counter, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = counter.w[0], c1 = counter.w[1], c2 = counter.w[2], c3 = counter.w[3];
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, c0, hi0, lo0);
    mulhilo(kM1, c2, hi1, lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += kW0;
    k1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

// facet's use: key = the 64-bit seed, counter = a 64-bit block index (upper words 0).
FACET_HD inline Block philox4x32_10(uint64_t seed, uint64_t counter) {
  const Block c{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) from the top 24 bits (every value exactly representable in float32).
FACET_HD inline float uniform_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
// Uniform in [0, 1) from 53 bits of two words.
FACET_HD inline double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Box-Muller on u1 in [0, 1), u2 in [0, 1): 1 - u1 lies in (0, 1], so the log never sees 0.
template <class T>
FACET_HD inline void box_muller(T u1, T u2, T& z0, T& z1) {
  const T two_pi = static_cast<T>(6.283185307179586476925286766559);
  const T r = hd::sqrt(static_cast<T>(-2) * hd::log(static_cast<T>(1) - u1));
  z0 = r * hd::cos(two_pi * u2);
  z1 = r * hd::sin(two_pi * u2);
}

// Element i of a uniform [0, 1) float32 stream at counter base `offset`.
FACET_HD inline float uniform_f32_at(uint64_t seed, uint64_t offset, int64_t i) {
  const Block b = philox4x32_10(seed, offset + static_cast<uint64_t>(i / 4));
  return uniform_float(b.w[i % 4]);
}

FACET_HD inline double uniform_f64_at(uint64_t seed, uint64_t offset, int64_t i) {
  const Block b = philox4x32_10(seed, offset + static_cast<uint64_t>(i / 2));
  const int k = static_cast<int>(i % 2) * 2;
  return uniform_double(b.w[k], b.w[k + 1]);
}

// Element i of a standard normal stream: the Box-Muller pair (2p, 2p + 1) uses uniforms 2p, 2p + 1.
// The transform runs in double and rounds once, so the host's and the device's float libm (whose
// last bits differ) do not show in the float32 stream.
FACET_HD inline float normal_f32_at(uint64_t seed, uint64_t offset, int64_t i) {
  const Block b = philox4x32_10(seed, offset + static_cast<uint64_t>(i / 4));
  const int k = static_cast<int>(i % 4) & ~1;
  double z0, z1;
  box_muller<double>(uniform_float(b.w[k]), uniform_float(b.w[k + 1]), z0, z1);
  return static_cast<float>((i % 2) ? z1 : z0);
}

FACET_HD inline double normal_f64_at(uint64_t seed, uint64_t offset, int64_t i) {
  const int64_t pair = i / 2;
  const double u1 = uniform_f64_at(seed, offset, 2 * pair), u2 = uniform_f64_at(seed, offset, 2 * pair + 1);
  double z0, z1;
  box_muller(u1, u2, z0, z1);
  return (i % 2) ? z1 : z0;
}

// Element i of a draw of T (float or double): uniform in [a, a + b), or normal with mean a and
// standard deviation b. Both backends' fill loops are this one call per element.
template <class T, bool kNormal>
FACET_HD inline T random_at(uint64_t seed, uint64_t offset, int64_t i, T a, T b) {
  T draw;
  if constexpr (kNormal) draw = sizeof(T) == 4 ? normal_f32_at(seed, offset, i) : normal_f64_at(seed, offset, i);
  else draw = sizeof(T) == 4 ? uniform_f32_at(seed, offset, i) : uniform_f64_at(seed, offset, i);
  return hd::mul_add(b, draw, a);
}

// Counter blocks that n elements of the given width consume (words per element: 1 or 2).
FACET_HD inline uint64_t blocks_for(int64_t n, int words_per_element) {
  return (static_cast<uint64_t>(n) * words_per_element + 3) / 4;
}

}  // namespace facet::philox
