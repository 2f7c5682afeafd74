#pragma once
// The random numbers of the data pipeline, each a pure function of where it is used rather than
// of a running generator: a shuffle is a function of (seed, epoch), a transform's draws of (seed,
// epoch, sample index, transform step). So results never depend on threads, batch order or on
// where a run was resumed.
//
// Philox-4x32-10 (core/philox.h) with key = the 64-bit seed and the 128-bit counter
// {a low, a high, b, stream}: one block gives four 32-bit words.
#include <cstdint>

#include "core/philox.h"

namespace facet::data {

// Counter streams, so that the shuffle, the pair lists and each transform step never share words.
inline constexpr uint32_t kShuffleStream = 0xFFFFFFFFu;
inline constexpr uint32_t kSamePairStream = 0xFFFFFFFEu;
inline constexpr uint32_t kDifferentPairStream = 0xFFFFFFFDu;
// Transform steps use streams 0, 1, 2, ... (their position in a compose()).

inline philox::Block random_block(uint64_t seed, uint64_t a, uint32_t b, uint32_t stream) {
  const philox::Block counter{{static_cast<uint32_t>(a), static_cast<uint32_t>(a >> 32), b, stream}};
  return philox::philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, n) for n >= 1 from 64 random bits. The modulo's bias is below n / 2^64, far
// under anything a data pipeline could notice.
inline uint64_t random_below(const philox::Block& b, uint64_t n) {
  const uint64_t bits = (static_cast<uint64_t>(b.w[0]) << 32) | b.w[1];
  return bits % n;
}

// The same from the block's other 64 bits (words 2 and 3), for a second draw from one block.
inline uint64_t random_below_hi(const philox::Block& b, uint64_t n) { return random_below(philox::Block{{b.w[2], b.w[3], 0u, 0u}}, n); }

}  // namespace facet::data
