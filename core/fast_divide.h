#pragma once
// Division of 32-bit indices by a divisor fixed per kernel launch, as a multiply-high, an add and a
// shift (Granlund and Montgomery's method): a GPU has no integer divider, and the emulated 64-bit
// division costs tens of instructions, more than a memory-bound kernel can spend per element
// (batchnorm's channel of element e is (e / inner) % channels). Exact for every n < 2^31 and every
// divisor >= 1; the host tests check it against '/' (tests/test_fast_divide.cpp).
#include <stdint.h>

#include <string>

#include "core/error.h"
#include "core/hd.h"

namespace facet {

// An index split by a divisor: n = quot * divisor + rem.
struct QuotRem {
  int64_t quot, rem;
};

// The same split with the hardware's 64-bit '/' and '%': the CPU's path (its divider is fast)
// and the GPU's for indices of 2^31 and more. An aggregate, so device code can build one.
struct WideDivider {
  int64_t divisor;
  FACET_HD QuotRem split(int64_t n) const { return {n / divisor, n % divisor}; }
};

class FastDivider {
 public:
  FastDivider() = default;
  // divisor >= 1 and < 2^31 (the caller's sizes); anything else would divide by zero here or
  // overflow in divide().
  explicit FastDivider(int64_t divisor) : divisor_(static_cast<uint32_t>(divisor)) {
    FACET_CHECK(divisor >= 1 && divisor < (int64_t{1} << 31), "facet::FastDivider",
                "a divisor from 1 to 2^31 - 1", "divisor " + std::to_string(divisor));
    while ((uint64_t{1} << shift_) < divisor_) ++shift_;  // the smallest s with 2^s >= divisor
    // floor(2^32 (2^s - d) / d) + 1 < 2^32, as 2^s - d < d.
    magic_ = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift_) - divisor_)) / divisor_ + 1);
  }

  FACET_HD uint32_t divide(uint32_t n) const {
    // n + high(n * magic) <= 2n < 2^32 for n < 2^31: no overflow.
    return (high_product(n, magic_) + n) >> shift_;
  }
  FACET_HD uint32_t remainder(uint32_t n, uint32_t quotient) const { return n - quotient * divisor_; }
  FACET_HD uint32_t divisor() const { return divisor_; }
  // n / divisor and n % divisor for 0 <= n < 2^31.
  FACET_HD QuotRem split(int64_t n) const {
    const uint32_t q = divide(static_cast<uint32_t>(n));
    return {q, remainder(static_cast<uint32_t>(n), q)};
  }

 private:
  FACET_HD static uint32_t high_product(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __umulhi(a, b);
#else
    return static_cast<uint32_t>((uint64_t{a} * b) >> 32);
#endif
  }

  uint32_t divisor_ = 1, magic_ = 1, shift_ = 0;
};

// Whether every index of a tensor of `count` elements fits FastDivider's range.
inline bool fits_fast_divide(int64_t count) { return count < (int64_t{1} << 31); }

}  // namespace facet
