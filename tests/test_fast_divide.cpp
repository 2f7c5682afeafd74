// core/fast_divide.h: the multiply-and-shift division the CUDA kernels use for indices, against
// the compiler's '/' and '%' over divisors and numerators at the edges of its range (the same
// FACET_HD code runs here and on the GPU).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/fast_divide.h"

using namespace facet;

TEST_CASE("FastDivider divides every index below 2^31 exactly, as '/' and '%' (and WideDivider) do") {
  std::vector<uint32_t> divisors;
  for (uint32_t d = 1; d <= 1100; ++d) divisors.push_back(d);
  for (int k = 11; k <= 30; ++k)
    for (int64_t delta : {-1, 0, 1}) divisors.push_back(static_cast<uint32_t>((int64_t{1} << k) + delta));
  for (uint32_t d : {3136u, 12544u, 200704u, 65537u, 2147483647u, 2147483646u}) divisors.push_back(d);
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) divisors.push_back(1 + rng() % 2147483647u);
  const uint32_t top = 2147483647u;  // 2^31 - 1, the largest numerator allowed
  int64_t wrong = 0, checked = 0;
  for (uint32_t d : divisors) {
    const FastDivider div(d);
    CHECK(div.divisor() == d);
    std::vector<uint32_t> numerators = {0, 1, d - 1, d, top, top - 1, top - d + 1};
    for (uint32_t m : {1u, 2u, 3u, 1000u, top / d - 1, top / d})
      if (uint64_t{m} * d + 1 <= top)
        for (int64_t delta : {-1, 0, 1}) {
          const int64_t n = int64_t{m} * d + delta;
          if (n >= 0 && n <= top) numerators.push_back(static_cast<uint32_t>(n));
        }
    for (int i = 0; i < 300; ++i) numerators.push_back(rng() % (top + 1u));
    for (uint32_t n : numerators) {
      if (n > top) continue;
      const uint32_t q = div.divide(n);
      wrong += q != n / d || div.remainder(n, q) != n % d;
      const QuotRem fast = div.split(n), wide = WideDivider{d}.split(n);
      wrong += fast.quot != wide.quot || fast.rem != wide.rem || wide.quot != n / d || wide.rem != n % d;
      ++checked;
    }
  }
  CHECK(checked > 300000);
  CHECK(wrong == 0);
  // Every numerator for a few small divisors, up to 2^20.
  for (uint32_t d : {1u, 7u, 49u, 784u, 1000u}) {
    const FastDivider div(d);
    int64_t bad = 0;
    for (uint32_t n = 0; n < (1u << 20); ++n) bad += div.divide(n) != n / d;
    CHECK(bad == 0);
  }
  CHECK(fits_fast_divide((int64_t{1} << 31) - 1));
  CHECK(!fits_fast_divide(int64_t{1} << 31));
}

TEST_CASE("FastDivider refuses a divisor outside 1 .. 2^31 - 1 with a facet::Error") {
  CHECK_THROWS_AS(FastDivider(0u), facet::Error);
  CHECK_THROWS_AS(FastDivider(2147483648u), facet::Error);
  CHECK_THROWS_AS(FastDivider(4294967295u), facet::Error);
  CHECK_THROWS_AS(FastDivider(int64_t{-3}), facet::Error);
  CHECK_THROWS_AS(FastDivider(int64_t{1} << 32), facet::Error);  // would wrap to 0 as a uint32_t
  CHECK_THROWS_AS(FastDivider((int64_t{1} << 32) + 7), facet::Error);  // would wrap to 7
  CHECK_NOTHROW(FastDivider(2147483647u));
  try {
    const FastDivider bad(0u);
    (void)bad;
    FAIL("no error for divisor 0");
  } catch (const facet::Error& e) {
    CHECK(std::string(e.what()).find("divisor 0") != std::string::npos);
  }
}
