#pragma once
#include <cstdint>

namespace facet {

// A seed and a counter offset: each draw reserves the Philox blocks it uses and advances the
// offset past them, so consecutive draws never overlap and a re-seed replays the same stream.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  void manual_seed(uint64_t seed) { seed_ = seed; offset_ = 0; }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  // Returns the offset at which a draw of `blocks` Philox blocks starts.
  uint64_t reserve(uint64_t blocks) {
    const uint64_t start = offset_;
    offset_ += blocks;
    return start;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide generator that factories use when none is passed.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace facet
