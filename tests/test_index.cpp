// index_select, index_add, gather, scatter_add and one_hot: hand-computed values, gradchecks,
// and bad input (indices out of range, a float index, wrong source shapes).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/deferred_checks.h"
#include "tests/helpers.h"

namespace {

using facet::Tensor;
namespace ft = facet::tests;

Tensor idx(const std::vector<int64_t>& v) { return facet::tensor(v); }
Tensor idx(const std::vector<int64_t>& v, const facet::Shape& shape) { return facet::tensor(v, shape); }
Tensor f64(const std::vector<double>& v, const facet::Shape& shape) { return facet::tensor(v, shape); }

using Values = std::vector<double>;

}  // namespace

TEST_CASE("index_select: hand-computed rows and columns, repeated indices") {
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64, facet::kInt64}) {
    CAPTURE(facet::dtype_name(dtype));
    const Tensor x = f64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3}).to(dtype);
    const Tensor rows = facet::index_select(x, 0, idx({2, 0, 2}));
    CHECK(rows.shape() == facet::Shape{3, 3});
    CHECK(rows.dtype() == dtype);
    CHECK(rows.to_vector<double>() == Values{7, 8, 9, 1, 2, 3, 7, 8, 9});
    const Tensor cols = facet::index_select(x, 1, idx({1, 1, 0, 2}));
    CHECK(cols.shape() == facet::Shape{3, 4});
    CHECK(cols.to_vector<double>() == Values{2, 2, 1, 3, 5, 5, 4, 6, 8, 8, 7, 9});
    CHECK(facet::index_select(x, -1, idx({2})).to_vector<double>() == Values{3, 6, 9});
  }
  // A 3-d input along its middle dim: out[a, j, c] = x[a, index[j], c], with x[a, b, c] = 100a + 10b + c.
  std::vector<double> v;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) v.push_back(100 * a + 10 * b + c);
  const Tensor x3 = f64(v, {2, 3, 4});
  const std::vector<int64_t> index = {2, 2, 0, 1, 0};
  const Tensor out = facet::index_select(x3, 1, idx(index));
  CHECK(out.shape() == facet::Shape{2, 5, 4});
  Values expected;
  for (int a = 0; a < 2; ++a)
    for (int64_t j : index)
      for (int c = 0; c < 4; ++c) expected.push_back(100 * a + 10 * j + c);
  CHECK(out.to_vector<double>() == expected);
  // A non-contiguous input: x.t() selects columns of x.
  const Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(facet::index_select(x.t(), 0, idx({2, 0})).to_vector<double>() == Values{3, 6, 1, 4});
}

TEST_CASE("index_add: repeated indices accumulate, the input is unchanged") {
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    // dim 0: rows 0 and 2 of ones receive source rows {0, 2} and {1}.
    const Tensor x = facet::ones({3, 2}, dtype);
    const Tensor src = f64({1, 2, 3, 4, 5, 6}, {3, 2}).to(dtype);
    const Tensor out = facet::index_add(x, 0, idx({0, 2, 0}), src);
    CHECK(out.shape() == facet::Shape{3, 2});
    // row 0: 1 + 1 + 5, 1 + 2 + 6; row 1 untouched; row 2: 1 + 3, 1 + 4
    CHECK(out.to_vector<double>() == Values{7, 9, 1, 1, 4, 5});
    CHECK(x.to_vector<double>() == Values(6, 1.0));

    // dim 1: column 2 receives source columns 0, 1 and 3; column 0 receives column 2.
    const Tensor z = facet::zeros({2, 3}, dtype);
    const Tensor src1 = f64({1, 2, 3, 4, 10, 20, 30, 40}, {2, 4}).to(dtype);
    const Tensor out1 = facet::index_add(z, 1, idx({2, 2, 0, 2}), src1);
    CHECK(out1.to_vector<double>() == Values{3, 0, 7, 30, 0, 70});
    CHECK(z.to_vector<double>() == Values(6, 0.0));
  }
  // 3-d along dim 1 with a loop reference: out[a, index[j], c] += src[a, j, c].
  facet::Generator gen(401);
  const Tensor x = facet::randn({2, 3, 5}, facet::kFloat64, &gen);
  const Tensor src = facet::randn({2, 4, 5}, facet::kFloat64, &gen);
  const std::vector<int64_t> index = {1, 0, 1, 1};
  const Tensor out = facet::index_add(x, 1, idx(index), src);
  Values ref = x.to_vector<double>();
  const Values sv = src.to_vector<double>();
  for (int a = 0; a < 2; ++a)
    for (int j = 0; j < 4; ++j)
      for (int c = 0; c < 5; ++c) ref[(a * 3 + index[j]) * 5 + c] += sv[(a * 4 + j) * 5 + c];
  CHECK(ft::rel_error(out, ref) < 1e-15);
}

TEST_CASE("gather: hand-computed along dim 0 and dim 1") {
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64, facet::kInt64}) {
    CAPTURE(facet::dtype_name(dtype));
    // dim 0: out[i][j] = x[index[i][j]][j]
    const Tensor x = f64({1, 2, 3, 4, 5, 6}, {3, 2}).to(dtype);
    const Tensor out0 = facet::gather(x, 0, idx({2, 0, 1, 1, 0, 2}, {3, 2}));
    CHECK(out0.shape() == facet::Shape{3, 2});
    CHECK(out0.to_vector<double>() == Values{5, 2, 3, 4, 1, 6});
    // fewer rows than the input along dim
    CHECK(facet::gather(x, 0, idx({1, 2}, {1, 2})).to_vector<double>() == Values{3, 6});
    // dim 1: out[i][j] = y[i][index[i][j]]
    const Tensor y = f64({1, 2, 3, 4, 5, 6}, {2, 3}).to(dtype);
    const Tensor out1 = facet::gather(y, 1, idx({2, 0, 0, 1, 1, 1, 2, 0}, {2, 4}));
    CHECK(out1.shape() == facet::Shape{2, 4});
    CHECK(out1.to_vector<double>() == Values{3, 1, 1, 2, 5, 5, 6, 4});
  }
  // Picking one label per row: the classic cross-entropy gather.
  const Tensor logits = f64({0.1, 0.2, 0.7, 0.5, 0.3, 0.2}, {2, 3});
  CHECK(facet::gather(logits, 1, idx({2, 0}, {2, 1})).to_vector<double>() == Values{0.7, 0.5});
}

TEST_CASE("scatter_add: repeated indices accumulate along dim 0 and dim 1") {
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    // dim 0: out[index[i][j]][j] += src[i][j]; column 0 all lands on row 0.
    const Tensor x = facet::zeros({3, 2}, dtype);
    const Tensor src = f64({1, 2, 3, 4, 5, 6}, {3, 2}).to(dtype);
    const Tensor out0 = facet::scatter_add(x, 0, idx({0, 1, 0, 2, 0, 1}, {3, 2}), src);
    CHECK(out0.to_vector<double>() == Values{9, 0, 0, 8, 0, 4});
    CHECK(x.to_vector<double>() == Values(6, 0.0));
    // dim 1 on a non-zero base: out[i][index[i][j]] += src[i][j]
    const Tensor base = f64({1, 1, 1, 2, 2, 2}, {2, 3}).to(dtype);
    const Tensor out1 = facet::scatter_add(base, 1, idx({2, 2, 0, 1}, {2, 2}), f64({10, 20, 30, 40}, {2, 2}).to(dtype));
    CHECK(out1.to_vector<double>() == Values{1, 1, 31, 32, 42, 2});
    CHECK(base.to_vector<double>() == Values{1, 1, 1, 2, 2, 2});
  }
}

TEST_CASE("gather and scatter_add: 3-d along dim 1 against loops") {
  facet::Generator gen(402);
  const Tensor x = facet::randn({2, 3, 4}, facet::kFloat64, &gen);
  const Tensor src = facet::randn({2, 5, 4}, facet::kFloat64, &gen);
  std::vector<int64_t> iv;
  for (int i = 0; i < 2 * 5 * 4; ++i) iv.push_back((i * 7 + i / 3) % 3);
  const Tensor index = idx(iv, {2, 5, 4});
  const Values xv = x.to_vector<double>(), sv = src.to_vector<double>();
  Values gathered(2 * 5 * 4), scattered = xv;
  for (int a = 0; a < 2; ++a)
    for (int j = 0; j < 5; ++j)
      for (int c = 0; c < 4; ++c) {
        const int at = (a * 5 + j) * 4 + c;
        gathered[at] = xv[(a * 3 + iv[at]) * 4 + c];
        scattered[(a * 3 + iv[at]) * 4 + c] += sv[at];
      }
  CHECK(facet::gather(x, 1, index).to_vector<double>() == gathered);
  CHECK(ft::rel_error(facet::scatter_add(x, 1, index, src), scattered) < 1e-15);
}

TEST_CASE("one_hot: hand-computed rows") {
  const Tensor oh = facet::one_hot(idx({2, 0, 1, 2}), 3);
  CHECK(oh.shape() == facet::Shape{4, 3});
  CHECK(oh.dtype() == facet::kFloat32);
  CHECK(oh.to_vector<double>() == Values{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  const Tensor oh64 = facet::one_hot(idx({1, 0, 3, 3}, {2, 2}), 4, facet::kInt64);
  CHECK(oh64.shape() == facet::Shape{2, 2, 4});
  CHECK(oh64.dtype() == facet::kInt64);
  CHECK(oh64.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1});
  const Tensor single = facet::one_hot(idx({0}), 1, facet::kFloat64);
  CHECK(single.to_vector<double>() == Values{1});
}

TEST_CASE("index ops: gradcheck") {
  using V = std::vector<Tensor>;
  SUBCASE("index_select") {
    const Tensor i0 = idx({2, 0, 2, 1});
    FACET_CHECK_GRAD([i0](const V& in) { return facet::index_select(in[0], 0, i0); }, (V{ft::grad_input({3, 4}, 501)}));
    FACET_CHECK_GRAD([i0](const V& in) { return facet::index_select(in[0], 1, i0); }, (V{ft::grad_input({2, 3}, 502)}));
    FACET_CHECK_GRAD([i0](const V& in) { return facet::index_select(in[0], 1, i0); },
                     (V{ft::grad_input({2, 3, 2}, 503)}));
  }
  SUBCASE("index_add, both inputs") {
    const Tensor i0 = idx({1, 0, 1});
    auto add0 = [i0](const V& in) { return facet::index_add(in[0], 0, i0, in[1]); };
    auto add1 = [i0](const V& in) { return facet::index_add(in[0], 1, i0, in[1]); };
    FACET_CHECK_GRAD(add0, (V{ft::grad_input({2, 3}, 511), ft::grad_input({3, 3}, 512)}));
    FACET_CHECK_GRAD(add1, (V{ft::grad_input({3, 2}, 513), ft::grad_input({3, 3}, 514)}));
    FACET_CHECK_GRAD(add1, (V{ft::grad_input({2, 2, 2}, 515), ft::grad_input({2, 3, 2}, 516)}));
    // Only the source wants a gradient.
    Tensor fixed = ft::grad_input({2, 3}, 517);
    fixed.set_requires_grad(false);
    FACET_CHECK_GRAD(add0, (V{fixed, ft::grad_input({3, 3}, 518)}));
  }
  SUBCASE("gather") {
    const Tensor g0 = idx({2, 0, 1, 1, 0, 2}, {2, 3});  // for [3, 3] along dim 0
    const Tensor g1 = idx({2, 0, 2, 1, 1, 1, 0, 2}, {2, 4});  // for [2, 3] along dim 1
    FACET_CHECK_GRAD([g0](const V& in) { return facet::gather(in[0], 0, g0); }, (V{ft::grad_input({3, 3}, 521)}));
    FACET_CHECK_GRAD([g1](const V& in) { return facet::gather(in[0], 1, g1); }, (V{ft::grad_input({2, 3}, 522)}));
  }
  SUBCASE("scatter_add, both inputs") {
    const Tensor s0 = idx({0, 1, 0, 2, 0, 1}, {3, 2});  // into [3, 2] along dim 0
    const Tensor s1 = idx({2, 2, 0, 1, 0, 0}, {2, 3});  // into [2, 4] along dim 1
    FACET_CHECK_GRAD([s0](const V& in) { return facet::scatter_add(in[0], 0, s0, in[1]); },
                     (V{ft::grad_input({3, 2}, 531), ft::grad_input({3, 2}, 532)}));
    FACET_CHECK_GRAD([s1](const V& in) { return facet::scatter_add(in[0], 1, s1, in[1]); },
                     (V{ft::grad_input({2, 4}, 533), ft::grad_input({2, 3}, 534)}));
    Tensor fixed = ft::grad_input({3, 2}, 535);
    fixed.set_requires_grad(false);
    FACET_CHECK_GRAD([s0](const V& in) { return facet::scatter_add(in[0], 0, s0, in[1]); },
                     (V{fixed, ft::grad_input({3, 2}, 536)}));
  }
}

TEST_CASE("index ops: an index out of range or negative names the bad value") {
  const Tensor x = facet::zeros({3, 2});
  SUBCASE("index_select") {
    ft::expect_error([&] { facet::index_select(x, 0, idx({0, 5})); }, {"index_select", "5", "[0, 3)"});
    ft::expect_error([&] { facet::index_select(x, 0, idx({-1})); }, {"index_select", "-1"});
    ft::expect_error([&] { facet::index_select(x, 1, idx({2})); }, {"index_select", "value 2", "[0, 2)"});
  }
  SUBCASE("index_add") {
    ft::expect_error([&] { facet::index_add(x, 0, idx({5}), facet::zeros({1, 2})); }, {"index_add", "5", "[0, 3)"});
    ft::expect_error([&] { facet::index_add(x, 0, idx({1, -2}), facet::zeros({2, 2})); }, {"index_add", "-2"});
    CHECK(x.to_vector<double>() == Values(6, 0.0));  // nothing half-written
  }
  SUBCASE("gather") {
    ft::expect_error([&] { facet::gather(x, 0, idx({0, 5}, {1, 2})); }, {"gather", "5", "[0, 3)"});
    ft::expect_error([&] { facet::gather(x, 0, idx({-1, 0}, {1, 2})); }, {"gather", "-1"});
  }
  SUBCASE("scatter_add") {
    ft::expect_error([&] { facet::scatter_add(x, 0, idx({5, 0}, {1, 2}), facet::ones({1, 2})); },
                     {"scatter_add", "5", "[0, 3)"});
    ft::expect_error([&] { facet::scatter_add(x, 0, idx({0, -1}, {1, 2}), facet::ones({1, 2})); },
                     {"scatter_add", "-1"});
    CHECK(x.to_vector<double>() == Values(6, 0.0));
  }
  SUBCASE("one_hot") {
    ft::expect_error([] { facet::one_hot(idx({0, 3}), 3); }, {"one_hot", "3", "[0, 3)"});
    ft::expect_error([] { facet::one_hot(idx({7}), 3); }, {"one_hot", "7"});
    ft::expect_error([] { facet::one_hot(idx({-1}), 3); }, {"one_hot", "-1"});
  }
}

// The host's half of the GPU's deferred checks (core/deferred_checks.h), driven with verdicts
// made up here: the kernels that write real ones run in the cuda suite.
TEST_CASE("deferred index checks: the oldest failure of a wait is thrown, later checks wait their turn") {
  facet::DeferredChecks checks;
  CHECK(checks.add({"gather", "indices along dim 0 in [0, 3)", "int64[4] on cuda:0"}) == 0);
  CHECK(checks.add({"one_hot", "labels in [0, 10)", "int64[2] on cuda:0"}) == 1);
  CHECK(checks.add({"index_add", "indices along dim 0 in [0, 5)", "int64[3] on cuda:0"}) == 2);
  std::vector<uint64_t> asked;
  // Checks 1 and 2 failed; the wait covered checks 0 and 1 only.
  const std::optional<facet::Error> error = checks.settle(2, [&](uint64_t s) {
    asked.push_back(s);
    return s == 0 ? facet::IndexVerdict{} : facet::IndexVerdict{s == 1 ? 1 : 0, s == 1 ? 12 : -4};
  });
  REQUIRE(error.has_value());
  CHECK(std::string(error->what()) ==
        std::string(facet::index_range_error("one_hot", "labels in [0, 10)", 12, 1, "int64[2] on cuda:0").what()));
  CHECK(error->given() == "value 12 at position 1 of int64[2] on cuda:0");
  CHECK(asked == std::vector<uint64_t>{0, 1});
  CHECK(checks.first() == 2);
  CHECK(checks.size() == 1);
  // The next wait settles check 2 (its own failure), then nothing is left.
  const std::optional<facet::Error> later = checks.settle(checks.end(), [](uint64_t) { return facet::IndexVerdict{0, -4}; });
  REQUIRE(later.has_value());
  CHECK(later->op() == "index_add");
  CHECK(later->given() == "value -4 at position 0 of int64[3] on cuda:0");
  CHECK(checks.size() == 0);
  CHECK(checks.add({"gather", "x", "t"}) == 3);  // numbers go on, they are never reused
  CHECK_FALSE(checks.settle(4, [](uint64_t) { return facet::IndexVerdict{}; }).has_value());
  CHECK(checks.first() == 4);
}

TEST_CASE("deferred index checks: two failures in one wait give the older one; a stale bound settles nothing") {
  facet::DeferredChecks checks;
  checks.add({"gather", "indices in [0, 3)", "a"});
  checks.add({"scatter_add", "indices in [0, 3)", "b"});
  const std::optional<facet::Error> error = checks.settle(2, [](uint64_t s) { return facet::IndexVerdict{5, static_cast<int64_t>(s)}; });
  REQUIRE(error.has_value());
  CHECK(error->op() == "gather");
  CHECK(error->given() == "value 0 at position 5 of a");
  CHECK(checks.size() == 0);
  checks.add({"one_hot", "labels in [0, 2)", "c"});
  CHECK_FALSE(checks.settle(1, [](uint64_t) { return facet::IndexVerdict{0, 9}; }).has_value());  // 1 < first
  CHECK(checks.size() == 1);
}

TEST_CASE("index ops: a float index tensor, wrong shapes") {
  const Tensor x = facet::zeros({3, 2});
  const Tensor findex = facet::tensor(std::vector<float>{0, 1});
  SUBCASE("float index") {
    ft::expect_error([&] { facet::index_select(x, 0, findex); }, {"index_select", "int64", "float32[2]"});
    ft::expect_error([&] { facet::index_add(x, 0, findex, facet::zeros({2, 2})); }, {"index_add", "int64", "float32[2]"});
    ft::expect_error([&] { facet::gather(x, 0, facet::zeros({1, 2})); }, {"gather", "int64", "float32[1, 2]"});
    ft::expect_error([&] { facet::scatter_add(x, 0, facet::zeros({1, 2}), facet::zeros({1, 2})); },
                     {"scatter_add", "int64", "float32[1, 2]"});
    ft::expect_error([] { facet::one_hot(facet::tensor(std::vector<float>{1}), 3); }, {"one_hot", "int64"});
  }
  SUBCASE("wrong source shape") {
    ft::expect_error([&] { facet::index_add(x, 0, idx({0, 1}), facet::zeros({3, 2})); },
                     {"index_add", "[2, 2]", "[3, 2]"});
    ft::expect_error([&] { facet::index_add(x, 1, idx({0}), facet::zeros({3, 2})); }, {"index_add", "[3, 1]", "[3, 2]"});
    ft::expect_error([&] { facet::scatter_add(x, 0, idx({0, 1}, {1, 2}), facet::zeros({2, 2})); },
                     {"scatter_add", "[1, 2]", "[2, 2]"});
  }
  SUBCASE("wrong index shape") {
    ft::expect_error([&] { facet::gather(x, 0, idx({0, 1, 2}, {1, 3})); }, {"gather", "[1, 3]", "[3, 2]"});
    ft::expect_error([&] { facet::gather(x, 0, idx({0, 1})); }, {"gather", "[2]", "[3, 2]"});
    ft::expect_error([&] { facet::index_select(x, 0, idx({0, 1}, {1, 2})); }, {"index_select", "[1, 2]"});
  }
  SUBCASE("dtype mix and dim out of range") {
    ft::expect_error([&] { facet::index_add(x, 0, idx({0}), facet::zeros({1, 2}, facet::kFloat64)); },
                     {"index_add", "float32[3, 2]", "float64[1, 2]"});
    ft::expect_error([&] { facet::index_select(x, 2, idx({0})); }, {"index_select", "dim 2"});
    ft::expect_error([&] { facet::gather(x, -3, idx({0}, {1, 1})); }, {"gather", "dim -3"});
  }
}
