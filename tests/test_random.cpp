// Philox against Random123's published known-answer vectors, and the properties the factories
// promise: a seed replays its stream, consecutive draws do not overlap, the moments are right.
#include <algorithm>
#include <cmath>

#include "core/philox.h"
#include "tests/helpers.h"

using namespace facet;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors") {
  struct Kat {
    philox::Block counter;
    uint32_t k0, k1;
    philox::Block expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const Kat& kat : kats) {
    const philox::Block out = philox::philox4x32_10(kat.counter, kat.k0, kat.k1);
    for (int i = 0; i < 4; ++i) CHECK(out.w[i] == kat.expected.w[i]);
  }
}

TEST_CASE("rand: a seed replays its stream and a draw continues where the last ended") {
  Generator a(42), b(42);
  const std::vector<float> first = rand({7}, kFloat32, &a).to_vector<float>();
  const std::vector<float> second = rand({5}, kFloat32, &a).to_vector<float>();
  const std::vector<float> both = rand({7}, kFloat32, &b).to_vector<float>();
  CHECK(first == both);
  // 7 float32 values use 2 blocks; the second draw starts at block 2, i.e. element 8 of one stream.
  for (int i = 0; i < 5; ++i) CHECK(second[i] == philox::uniform_f32_at(42, 2, i));
  CHECK(a.offset() == 2 + 2);
  Generator other(43);
  CHECK(rand({7}, kFloat32, &other).to_vector<float>() != first);
}

TEST_CASE("rand, uniform and randn: element i is the shared per-element function of (seed, offset, i)") {
  Generator gen(7);
  const Tensor u = uniform({33}, -2.0, 3.0, kFloat64, &gen);
  for (int64_t i = 0; i < 33; ++i) CHECK(u.at<double>({i}) == -2.0 + 5.0 * philox::uniform_f64_at(7, 0, i));
  const Tensor z = randn({9}, kFloat32, &gen);
  const uint64_t start = philox::blocks_for(33, 2);
  for (int64_t i = 0; i < 9; ++i) CHECK(z.at<float>({i}) == philox::normal_f32_at(7, start, i));
}

TEST_CASE("uniform values stay in [lo, hi) and have the right mean and variance") {
  Generator gen(1);
  const std::vector<double> v = rand({200000}, kFloat64, &gen).to_vector<double>();
  double mean = 0, var = 0, lo = 1, hi = 0;
  for (double x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    mean += x;
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  mean /= v.size();
  for (double x : v) var += (x - mean) * (x - mean);
  var /= v.size();
  CHECK(mean == doctest::Approx(0.5).epsilon(0.01));
  CHECK(var == doctest::Approx(1.0 / 12).epsilon(0.01));
}

TEST_CASE("randn has mean 0, variance 1 and no non-finite values") {
  for (DType dtype : {kFloat32, kFloat64}) {
    Generator gen(3);
    const std::vector<double> v = randn({200001}, dtype, &gen).to_vector<double>();
    double mean = 0, var = 0;
    int64_t non_finite = 0;
    for (double x : v) {
      non_finite += !std::isfinite(x);
      mean += x;
    }
    REQUIRE(non_finite == 0);
    mean /= v.size();
    for (double x : v) var += (x - mean) * (x - mean);
    var /= v.size();
    CHECK(std::fabs(mean) < 0.01);
    CHECK(var == doctest::Approx(1.0).epsilon(0.01));
  }
}

TEST_CASE("manual_seed resets the default generator") {
  manual_seed(11);
  const std::vector<float> a = randn({10}).to_vector<float>();
  manual_seed(11);
  CHECK(randn({10}).to_vector<float>() == a);
}

TEST_CASE("random fills of a non-contiguous view write only the view") {
  Tensor base = zeros({4, 6});
  Generator gen(5);
  ops::uniform_(base.t(), 1.0, 2.0, gen);  // every element is in the transposed view
  for (double x : base.to_vector<double>()) CHECK(x >= 1.0);
  Tensor half = zeros({4, 6});
  ops::normal_(half.slice(1, 0, 6, 2), 5.0, 0.1, gen);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j) CHECK((half.at<float>({i, j}) == 0.0f) == (j % 2 == 1));
}

TEST_CASE("bad random arguments") {
  Generator gen(0);
  tests::expect_error([&] { uniform({3}, 2.0, 1.0, kFloat32, &gen); }, {"uniform_", "lo <= hi"});
  tests::expect_error([&] { ops::normal_(zeros({3}), 0.0, -1.0, gen); }, {"normal_", "stddev"});
  tests::expect_error([&] { ops::normal_(zeros({3}, kInt64), 0.0, 1.0, gen); }, {"normal_", "int64"});
}
