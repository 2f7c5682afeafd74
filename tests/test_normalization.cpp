// softmax, log_softmax and L2 normalize along a dim: values against float64 formulas,
// numerical stability, gradchecks, and bad input.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/helpers.h"

namespace {

using facet::Tensor;
namespace ft = facet::tests;

enum class Kind { Softmax, LogSoftmax, Normalize };

// The float64 reference along `dim` of a row-major tensor of `shape`, written from the formulas:
//   softmax(x)_j = exp(x_j - max) / sum_l exp(x_l - max)
//   log_softmax(x)_j = x_j - max - log(sum_l exp(x_l - max))
//   normalize(x)_j = x_j / max(sqrt(sum_l x_l^2), eps)
std::vector<double> reference(Kind kind, const std::vector<double>& x, const facet::Shape& shape, int64_t dim,
                              double eps = 1e-12) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  if (dim < 0) dim += nd;
  int64_t outer = 1, n = shape[dim], inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < nd; ++d) inner *= shape[d];
  std::vector<double> out(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      if (kind == Kind::Normalize) {
        double sq = 0;
        for (int64_t j = 0; j < n; ++j) sq += x[at(j)] * x[at(j)];
        const double denom = std::max(std::sqrt(sq), eps);
        for (int64_t j = 0; j < n; ++j) out[at(j)] = x[at(j)] / denom;
        continue;
      }
      double mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, x[at(j)]);
      double total = 0;
      for (int64_t j = 0; j < n; ++j) total += std::exp(x[at(j)] - mx);
      for (int64_t j = 0; j < n; ++j)
        out[at(j)] = kind == Kind::Softmax ? std::exp(x[at(j)] - mx) / total : x[at(j)] - mx - std::log(total);
    }
  return out;
}

Tensor apply(Kind kind, const Tensor& x, int64_t dim, double eps = 1e-12) {
  switch (kind) {
    case Kind::Softmax: return facet::softmax(x, dim);
    case Kind::LogSoftmax: return facet::log_softmax(x, dim);
    case Kind::Normalize: return facet::normalize(x, dim, eps);
  }
  return Tensor();
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Softmax: return "softmax";
    case Kind::LogSoftmax: return "log_softmax";
    case Kind::Normalize: return "normalize";
  }
  return "";
}

double tolerance(facet::DType dtype) { return dtype == facet::kFloat32 ? 1e-5 : 1e-12; }

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

const std::vector<Kind> kKinds = {Kind::Softmax, Kind::LogSoftmax, Kind::Normalize};

}  // namespace

TEST_CASE("softmax, log_softmax, normalize: values along dims 0, 1, -1 of 2-d and 3-d inputs") {
  facet::Generator gen(201);
  const std::vector<facet::Shape> shapes = {{7, 33}, {1, 7}, {3, 5, 7}, {33, 1, 4}};
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64})
    for (const facet::Shape& shape : shapes)
      for (int64_t dim : {0, 1, -1, 2})
        for (Kind kind : kKinds) {
          if (dim == 2 && shape.size() < 3) continue;
          CAPTURE(kind_name(kind));
          CAPTURE(facet::dtype_name(dtype));
          CAPTURE(facet::shape_str(shape));
          CAPTURE(dim);
          const Tensor x = facet::uniform(shape, -3.0, 3.0, dtype, &gen);
          const Tensor y = apply(kind, x, dim);
          CHECK(y.shape() == shape);
          CHECK(y.dtype() == dtype);
          CHECK(ft::rel_error(y, reference(kind, x.to_vector<double>(), shape, dim)) < tolerance(dtype));
        }
}

TEST_CASE("softmax, log_softmax, normalize: the method forms and non-contiguous inputs") {
  facet::Generator gen(202);
  const Tensor base = facet::randn({5, 7}, facet::kFloat64, &gen);
  const Tensor xt = base.t();  // [7, 5], not contiguous
  // Reference on the logical values of the view, re-laid out row-major by hand.
  const std::vector<double> bv = base.to_vector<double>();
  std::vector<double> tv(35);
  for (int64_t i = 0; i < 7; ++i)
    for (int64_t j = 0; j < 5; ++j) tv[i * 5 + j] = bv[j * 7 + i];
  for (int64_t dim : {0, 1}) {
    CAPTURE(dim);
    CHECK(ft::rel_error(facet::softmax(xt, dim), reference(Kind::Softmax, tv, {7, 5}, dim)) < 1e-12);
    CHECK(ft::rel_error(xt.softmax(dim), reference(Kind::Softmax, tv, {7, 5}, dim)) < 1e-12);
    CHECK(ft::rel_error(xt.log_softmax(dim), reference(Kind::LogSoftmax, tv, {7, 5}, dim)) < 1e-12);
    CHECK(ft::rel_error(facet::normalize(xt, dim), reference(Kind::Normalize, tv, {7, 5}, dim)) < 1e-12);
  }
}

TEST_CASE("softmax: hand-computed rows") {
  // softmax([0, ln 2, ln 5]) = [1, 2, 5] / 8; softmax of a constant row is uniform.
  const Tensor x = facet::tensor(std::vector<double>{0, std::log(2.0), std::log(5.0), 4, 4, 4}, {2, 3});
  const std::vector<double> y = facet::softmax(x, 1).to_vector<double>();
  const std::vector<double> expected = {1.0 / 8, 2.0 / 8, 5.0 / 8, 1.0 / 3, 1.0 / 3, 1.0 / 3};
  CHECK(ft::rel_error(y, expected) < 1e-15);
  // normalize([3, 4]) = [0.6, 0.8]
  const Tensor v = facet::tensor(std::vector<double>{3, 4}, {1, 2});
  CHECK(ft::rel_error(facet::normalize(v, 1), {0.6, 0.8}) < 1e-15);
  CHECK(ft::rel_error(facet::normalize(v, 0), {1.0, 1.0}) < 1e-15);
}

TEST_CASE("softmax and log_softmax: rows of large values stay finite and exact (max subtracted)") {
  const double e = std::exp(1.0);
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    // Rows [1000, 1001], [-1000, -1001], [1e4, 1e4]; exp of any would overflow or underflow alone.
    const std::vector<double> v = {1000, 1001, -1000, -1001, 1e4, 1e4};
    const Tensor x = facet::tensor(v, {3, 2}).to(dtype);
    const Tensor s = facet::softmax(x, 1);
    const Tensor ls = facet::log_softmax(x, 1);
    REQUIRE(all_finite(s));
    REQUIRE(all_finite(ls));
    const std::vector<double> s_ref = {1 / (1 + e), e / (1 + e), e / (1 + e), 1 / (1 + e), 0.5, 0.5};
    const double l1pe = std::log1p(e);
    const std::vector<double> ls_ref = {-l1pe, 1 - l1pe, 1 - l1pe, -l1pe, -std::log(2.0), -std::log(2.0)};
    CHECK(ft::rel_error(s, s_ref) < tolerance(dtype));
    CHECK(ft::rel_error(ls, ls_ref) < tolerance(dtype));

    // The same along dim 0 of the transpose.
    const Tensor xt = facet::tensor(std::vector<double>{1000, -1000, 1e4, 1001, -1001, 1e4}, {2, 3}).to(dtype);
    const Tensor st = facet::softmax(xt, 0);
    REQUIRE(all_finite(st));
    CHECK(ft::rel_error(st, {1 / (1 + e), e / (1 + e), 0.5, e / (1 + e), 1 / (1 + e), 0.5}) < tolerance(dtype));
    const Tensor lst = facet::log_softmax(xt, 0);
    REQUIRE(all_finite(lst));
    CHECK(ft::rel_error(lst, {-l1pe, 1 - l1pe, -std::log(2.0), 1 - l1pe, -l1pe, -std::log(2.0)}) < tolerance(dtype));
  }
  // A gap of 1000 within a row: the small entry underflows to exactly 0 in softmax, while
  // log_softmax still gives the exact -1000 (no log(0) = -inf).
  const Tensor gap = facet::tensor(std::vector<double>{0, 1000}, {1, 2});
  CHECK(facet::softmax(gap, 1).to_vector<double>() == std::vector<double>{0.0, 1.0});
  CHECK(facet::log_softmax(gap, 1).to_vector<double>() == std::vector<double>{-1000.0, 0.0});
}

TEST_CASE("normalize: an all-zero row gives zeros, and rows below eps divide by eps") {
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    const Tensor x = facet::tensor(std::vector<double>{0, 0, 0, 1, 2, 2}, {2, 3}).to(dtype);
    const Tensor y = facet::normalize(x, 1);
    REQUIRE(all_finite(y));
    CHECK(ft::rel_error(y, {0, 0, 0, 1.0 / 3, 2.0 / 3, 2.0 / 3}) < tolerance(dtype));
    CHECK(y.at<double>({0, 0}) == 0.0);
    // Along dim 0 every column has a non-zero entry: [0, 1] -> [0, 1], [0, 2] -> [0, 1].
    CHECK(ft::rel_error(facet::normalize(x, 0), {0, 0, 0, 1, 1, 1}) < tolerance(dtype));
    // A column of zeros along dim 0.
    const Tensor z = facet::zeros({4, 2}, dtype);
    const Tensor yz = facet::normalize(z, 0);
    REQUIRE(all_finite(yz));
    CHECK(yz.to_vector<double>() == std::vector<double>(8, 0.0));
  }
  // Norm 0.5 (row [0.3, 0.4]) under eps 2: the row is divided by eps, as max(||x||, eps).
  const Tensor small = facet::tensor(std::vector<double>{0.3, 0.4, 3, 4}, {2, 2});
  CHECK(ft::rel_error(facet::normalize(small, 1, 2.0), {0.15, 0.2, 0.6, 0.8}) < 1e-15);
  CHECK(ft::rel_error(facet::normalize(small, 1, 2.0), reference(Kind::Normalize, {0.3, 0.4, 3, 4}, {2, 2}, 1, 2.0)) <
        1e-15);
}

TEST_CASE("softmax, log_softmax, normalize: gradcheck along several dims") {
  using V = std::vector<Tensor>;
  uint64_t seed = 300;
  for (Kind kind : kKinds) {
    CAPTURE(kind_name(kind));
    for (const facet::Shape& shape : {facet::Shape{3, 4}, facet::Shape{2, 3, 4}})
      for (int64_t dim : {0, 1, -1}) {
        CAPTURE(facet::shape_str(shape));
        CAPTURE(dim);
        FACET_CHECK_GRAD([kind, dim](const V& in) { return apply(kind, in[0], dim); },
                         (V{ft::grad_input(shape, ++seed, -2.0, 2.0)}));
      }
  }
  // A weighted sum makes every entry of the Jacobian count with a different weight.
  facet::Generator gen(303);
  const Tensor w = facet::uniform({2, 3, 4}, -1.0, 1.0, facet::kFloat64, &gen);
  for (Kind kind : kKinds)
    FACET_CHECK_GRAD([kind, w](const V& in) { return facet::sum(facet::mul(apply(kind, in[0], 1), w)); },
                     (V{ft::grad_input({2, 3, 4}, ++seed, -2.0, 2.0)}));
}

TEST_CASE("normalize: gradcheck where a row norm is below eps") {
  using V = std::vector<Tensor>;
  // Row 0 has norm ~0.2 < eps = 0.5 (gradient g / eps); rows 1 and 2 have norms > 1 (projected).
  Tensor x = facet::tensor(std::vector<double>{0.1, -0.12, 0.08, 0.05, 1.0, -0.7, 0.4, 0.9, 0.5, -0.6, 1.2, 0.3},
                           {3, 4});
  x.set_requires_grad(true);
  FACET_CHECK_GRAD([](const V& in) { return facet::normalize(in[0], 1, 0.5); }, (V{x}));
  FACET_CHECK_GRAD([](const V& in) { return facet::normalize(in[0], -1, 0.5); }, (V{x}));
  // Along dim 0 with eps 1.0: columns 1 (norm ~0.93) and 3 (~0.95) sit below eps, columns 0
  // (~1.12) and 2 (~1.27) above it.
  FACET_CHECK_GRAD([](const V& in) { return facet::normalize(in[0], 0, 1.0); }, (V{x}));
  // All rows below eps.
  Tensor tiny = ft::grad_input({2, 3, 2}, 333, -1e-3, 1e-3);
  FACET_CHECK_GRAD([](const V& in) { return facet::normalize(in[0], 1, 0.1); }, (V{tiny}));
  // The values themselves agree with the formula on the same input.
  CHECK(ft::rel_error(facet::normalize(x.detach(), 1, 0.5), reference(Kind::Normalize, x.to_vector<double>(), {3, 4}, 1, 0.5)) <
        1e-15);
}

TEST_CASE("softmax, log_softmax, normalize: bad input") {
  for (Kind kind : kKinds) {
    CAPTURE(kind_name(kind));
    const std::string name = kind_name(kind);
    ft::expect_error([kind] { apply(kind, facet::zeros({2, 3}), 2); }, {name, "dim 2", "2-d"});
    ft::expect_error([kind] { apply(kind, facet::zeros({2, 3}), -3); }, {name, "dim -3"});
    ft::expect_error([kind] { apply(kind, facet::zeros({2, 3, 4}), 3); }, {name, "dim 3", "3-d"});
    ft::expect_error([kind] { apply(kind, facet::zeros({2, 3}, facet::kInt64), 1); }, {name, "int64[2, 3]"});
  }
  ft::expect_error([] { facet::normalize(facet::zeros({2, 3}), 1, 0.0); }, {"normalize", "eps"});
}

TEST_CASE("softmax: -inf logits (masks) get probability 0; an all -inf row is NaN, as in PyTorch") {
  const Tensor x = facet::tensor(std::vector<double>{-INFINITY, 0, -INFINITY, 1, -INFINITY, 1}, {2, 3});
  const std::vector<double> p = facet::softmax(x, 1).to_vector<double>();
  CHECK(p == std::vector<double>{0, 1, 0, 0.5, 0, 0.5});
  const std::vector<double> lp = facet::log_softmax(x, 1).to_vector<double>();
  CHECK(std::isinf(lp[0]));
  CHECK(lp[0] < 0);
  CHECK(lp[1] == 0.0);
  CHECK(lp[3] == doctest::Approx(-std::log(2.0)));
  const std::vector<double> all_masked = facet::softmax(facet::full({1, 3}, -INFINITY, facet::kFloat64), 1).to_vector<double>();
  for (double v : all_masked) CHECK(std::isnan(v));
}

TEST_CASE("normalize's fused backward: values by hand above and below eps, and bad inputs") {
  // x = (3, 4), g = (1, 2): y = (0.6, 0.8), g.y = 2.2, dx = (g - 2.2 y) / 5 = (-0.064, 0.048).
  // x = (1e-4, 0) with eps 1e-3: the forward divides by eps, so dx = g / eps.
  const facet::Tensor x = facet::tensor(std::vector<double>{3, 4, 1e-4, 0}, {2, 2});
  const facet::Tensor g = facet::tensor(std::vector<double>{1, 2, 1, 1}, {2, 2});
  CHECK(ft::rel_error(facet::ops::normalize_backward(x, g, 1, 1e-3), {-0.064, 0.048, 1000, 1000}) < 1e-14);
  // Along dim 0 the columns are (3, 1e-4) and (4, 0).
  const double n0 = std::sqrt(9 + 1e-8), d0 = (1 * 3 + 1 * 1e-4) / (9 + 1e-8);
  const double d1 = (2 * 4 + 1 * 0) / 16.0;
  CHECK(ft::rel_error(facet::ops::normalize_backward(x, g, 0, 1e-3),
                      {(1 - 3 * d0) / n0, (2 - 4 * d1) / 4, (1 - 1e-4 * d0) / n0, (1 - 0 * d1) / 4}) < 1e-14);
  ft::expect_error([&] { facet::ops::normalize_backward(x, facet::ones({2}), 1, 1e-3); }, {"normalize backward", "shaped like the input"});
}
