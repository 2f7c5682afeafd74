// sum, mean, max and argmax: whole-tensor and along each dim, against float64 loops; NaN
// propagation; empty dims; int64; gradchecks.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/helpers.h"

namespace {

using facet::Tensor;
namespace ft = facet::tests;
using Values = std::vector<double>;

enum class Kind { Sum, Mean, Max, Argmax };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Sum: return "sum";
    case Kind::Mean: return "mean";
    case Kind::Max: return "max";
    case Kind::Argmax: return "argmax";
  }
  return "";
}

Tensor reduce(Kind k, const Tensor& x, int64_t dim, bool keepdim) {
  switch (k) {
    case Kind::Sum: return facet::sum(x, dim, keepdim);
    case Kind::Mean: return facet::mean(x, dim, keepdim);
    case Kind::Max: return facet::max(x, dim, keepdim);
    case Kind::Argmax: return facet::argmax(x, dim, keepdim);
  }
  return Tensor();
}

Tensor reduce_all(Kind k, const Tensor& x) {
  switch (k) {
    case Kind::Sum: return facet::sum(x);
    case Kind::Mean: return facet::mean(x);
    case Kind::Max: return facet::max(x);
    case Kind::Argmax: return facet::argmax(x);
  }
  return Tensor();
}

// Reduces the row-major values of `shape` along `dim` in float64: sum, mean, max, or the index of
// the first maximum. Row-major output over the remaining dims.
Values reference(Kind k, const Values& x, const facet::Shape& shape, int64_t dim) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  if (dim < 0) dim += nd;
  int64_t outer = 1, n = shape[dim], inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < nd; ++d) inner *= shape[d];
  Values out(outer * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = 0, best = -INFINITY;
      int64_t best_j = -1;
      for (int64_t j = 0; j < n; ++j) {
        const double v = x[(o * n + j) * inner + i];
        acc += v;
        if (best_j < 0 || v > best) best = v, best_j = j;
      }
      double r = 0;
      switch (k) {
        case Kind::Sum: r = acc; break;
        case Kind::Mean: r = acc / static_cast<double>(n); break;
        case Kind::Max: r = best; break;
        case Kind::Argmax: r = static_cast<double>(best_j); break;
      }
      out[o * inner + i] = r;
    }
  return out;
}

facet::Shape reduced(const facet::Shape& shape, int64_t dim, bool keepdim) {
  if (dim < 0) dim += static_cast<int64_t>(shape.size());
  facet::Shape out = shape;
  if (keepdim) out[dim] = 1;
  else out.erase(out.begin() + dim);
  return out;
}

double tolerance(facet::DType dtype) { return dtype == facet::kFloat32 ? 1e-6 : 1e-13; }

const std::vector<Kind> kKinds = {Kind::Sum, Kind::Mean, Kind::Max, Kind::Argmax};

}  // namespace

TEST_CASE("sum, mean, max, argmax: along each dim of a 3-d tensor, keepdim both ways") {
  facet::Generator gen(601);
  const facet::Shape shape = {3, 7, 5};
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    const Tensor x = facet::randn(shape, dtype, &gen);
    const Values xv = x.to_vector<double>();
    for (Kind k : kKinds)
      for (int64_t dim : {0, 1, 2, -1, -3})
        for (bool keepdim : {false, true}) {
          CAPTURE(kind_name(k));
          CAPTURE(facet::dtype_name(dtype));
          CAPTURE(dim);
          CAPTURE(keepdim);
          const Tensor y = reduce(k, x, dim, keepdim);
          CHECK(y.shape() == reduced(shape, dim, keepdim));
          const Values ref = reference(k, xv, shape, dim);
          if (k == Kind::Argmax) {
            CHECK(y.dtype() == facet::kInt64);
            CHECK(y.to_vector<double>() == ref);
          } else if (k == Kind::Max) {
            CHECK(y.dtype() == dtype);
            CHECK(y.to_vector<double>() == ref);  // max picks an element: exact
          } else {
            CHECK(y.dtype() == dtype);
            CHECK(ft::rel_error(y, ref) < tolerance(dtype));
          }
        }
  }
}

TEST_CASE("sum, mean, max, argmax: whole tensor") {
  facet::Generator gen(602);
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    const Tensor x = facet::randn({3, 7, 5}, dtype, &gen);
    const Values xv = x.to_vector<double>();
    const facet::Shape flat = {static_cast<int64_t>(xv.size())};
    for (Kind k : kKinds) {
      CAPTURE(kind_name(k));
      const Tensor y = reduce_all(k, x);
      CHECK(y.dim() == 0);
      CHECK(y.numel() == 1);
      const double ref = reference(k, xv, flat, 0)[0];
      if (k == Kind::Sum || k == Kind::Mean) CHECK(std::fabs(y.item<double>() - ref) <= tolerance(dtype) * std::fabs(ref));
      else CHECK(y.item<double>() == ref);
    }
    CHECK(x.sum().item<double>() == facet::sum(x).item<double>());
  }
  // Hand-computed: [[1, 5, 2], [4, 0, 3]]
  const Tensor h = facet::tensor(std::vector<double>{1, 5, 2, 4, 0, 3}, {2, 3});
  CHECK(facet::sum(h).item<double>() == 15.0);
  CHECK(facet::mean(h).item<double>() == 2.5);
  CHECK(facet::max(h).item<double>() == 5.0);
  CHECK(facet::argmax(h).item<int64_t>() == 1);
  CHECK(facet::sum(h, 0).to_vector<double>() == Values{5, 5, 5});
  CHECK(facet::sum(h, 1).to_vector<double>() == Values{8, 7});
  CHECK(facet::mean(h, 1).to_vector<double>() == Values{8.0 / 3, 7.0 / 3});
  CHECK(facet::max(h, 0).to_vector<double>() == Values{4, 5, 3});
  CHECK(facet::argmax(h, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  CHECK(facet::argmax(h, 1, true).shape() == facet::Shape{2, 1});
  CHECK(facet::argmax(h, 1, true).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
}

TEST_CASE("reductions of a non-contiguous view use its logical order") {
  // x = [[1, 5, 2], [4, 0, 3]]; x.t() = [[1, 4], [5, 0], [2, 3]]
  const Tensor x = facet::tensor(std::vector<double>{1, 5, 2, 4, 0, 3}, {2, 3});
  const Tensor xt = x.t();
  CHECK(facet::sum(xt, 1).to_vector<double>() == Values{5, 5, 5});
  CHECK(facet::max(xt, 1).to_vector<double>() == Values{4, 5, 3});
  CHECK(facet::argmax(xt, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  // Flattened order of x.t() is 1, 4, 5, 0, 2, 3: the max 5 sits at flat index 2.
  CHECK(facet::argmax(xt).item<int64_t>() == 2);
  CHECK(facet::argmax(x).item<int64_t>() == 1);
}

TEST_CASE("sum: 4097 float32 values against a float64 reference") {
  for (uint64_t seed : {611u, 612u, 613u}) {
    facet::Generator gen(seed);
    const Tensor x = facet::rand({4097}, facet::kFloat32, &gen);
    const std::vector<float> xf = x.to_vector<float>();
    double ref = 0;
    for (float v : xf) ref += static_cast<double>(v);
    const double got = facet::sum(x).item<double>();
    CHECK(std::fabs(got - ref) / std::fabs(ref) < 1e-6);
    const double mean = facet::mean(x).item<double>();
    CHECK(std::fabs(mean - ref / 4097) / std::fabs(ref / 4097) < 1e-6);
    // Along a dim too: [4097, 1] summed over dim 0, and [1, 4097] over dim 1.
    CHECK(std::fabs(facet::sum(x.reshape({4097, 1}), 0).item<double>() - ref) / std::fabs(ref) < 1e-6);
    CHECK(std::fabs(facet::sum(x.reshape({1, 4097}), 1).item<double>() - ref) / std::fabs(ref) < 1e-6);
  }
  // Values whose float32 running sum loses the small addends: 1 followed by 4096 copies of 2^-24.
  std::vector<float> v(4097, std::ldexp(1.0f, -24));
  v[0] = 1.0f;
  const double exact = 1.0 + 4096.0 * std::ldexp(1.0, -24);  // 1 + 2^-12
  CHECK(std::fabs(facet::sum(facet::tensor(v)).item<double>() - exact) / exact < 1e-6);
}

TEST_CASE("sum and mean: 100002 values (several parallel chunks) against a long double reference, the same on 1 and 2 threads") {
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    facet::Generator gen(614);
    const Tensor x = facet::randn({100002}, dtype, &gen);
    const Values xv = x.to_vector<double>();
    long double ref = 0, scale = 0;
    for (double v : xv) ref += v, scale += std::fabs(v);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const double one_thread = facet::sum(x).item<double>();
    omp_set_num_threads(2);
    const double two_threads = facet::sum(x).item<double>();
    omp_set_num_threads(threads);
    CHECK(one_thread == two_threads);  // the chunks, not the threads, fix the order
    // float32 rounds the double sum once at the end; float64 keeps it.
    const double tol = dtype == facet::kFloat32 ? 1e-7 : 1e-13;
    CHECK(std::fabs(two_threads - static_cast<double>(ref)) <= tol * static_cast<double>(scale));
    CHECK(std::fabs(facet::mean(x).item<double>() - static_cast<double>(ref / 100002)) <= tol * static_cast<double>(scale / 100002));
    // Contiguous lanes along a dim: [2, 50001] over dim 1.
    const Values rows = facet::sum(x.reshape({2, 50001}), 1).to_vector<double>();
    for (int64_t r = 0; r < 2; ++r) {
      long double want = 0, mag = 0;
      for (int64_t j = 0; j < 50001; ++j) want += xv[r * 50001 + j], mag += std::fabs(xv[r * 50001 + j]);
      CHECK(std::fabs(rows[r] - static_cast<double>(want)) <= tol * static_cast<double>(mag));
    }
    // Strided lanes, blocks of them and a partial block: [3, 2, 16667] over dim 1 (sum and mean).
    const Tensor y = x.reshape({3, 2, 16667});
    const Values sums = facet::sum(y, 1).to_vector<double>(), means = facet::mean(y, 1).to_vector<double>();
    REQUIRE(sums.size() == 3 * 16667);
    int64_t wrong = 0;  // two values a lane, summed as 0 + a + b: each must equal a + b to the bit
    for (int64_t o = 0; o < 3; ++o)
      for (int64_t i = 0; i < 16667; ++i) {
        const double a = xv[(o * 2) * 16667 + i], b = xv[(o * 2 + 1) * 16667 + i];
        const bool f32 = dtype == facet::kFloat32;
        wrong += sums[o * 16667 + i] != (f32 ? double(float(a + b)) : a + b);
        wrong += means[o * 16667 + i] != (f32 ? double(float((a + b) / 2)) : (a + b) / 2);
      }
    CHECK(wrong == 0);
  }
}

TEST_CASE("max and argmax: NaN propagates and is the argmax") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (facet::DType dtype : {facet::kFloat32, facet::kFloat64}) {
    CAPTURE(facet::dtype_name(dtype));
    const Tensor v = facet::tensor(std::vector<double>{1, nan, 3}).to(dtype);
    CHECK(std::isnan(facet::max(v).item<double>()));
    CHECK(facet::argmax(v).item<int64_t>() == 1);
    const Tensor first = facet::tensor(std::vector<double>{nan, 5, 1}).to(dtype);
    CHECK(std::isnan(facet::max(first).item<double>()));
    CHECK(facet::argmax(first).item<int64_t>() == 0);
    const Tensor last = facet::tensor(std::vector<double>{7, 5, nan}).to(dtype);
    CHECK(std::isnan(facet::max(last).item<double>()));
    CHECK(facet::argmax(last).item<int64_t>() == 2);
    // Two NaNs: the first one wins.
    const Tensor two = facet::tensor(std::vector<double>{0, nan, 9, nan}).to(dtype);
    CHECK(facet::argmax(two).item<int64_t>() == 1);

    // [[1, 5, NaN], [2, NaN, 0]]
    const Tensor m = facet::tensor(std::vector<double>{1, 5, nan, 2, nan, 0}, {2, 3}).to(dtype);
    const Values max1 = facet::max(m, 1).to_vector<double>();
    CHECK(std::isnan(max1[0]));
    CHECK(std::isnan(max1[1]));
    CHECK(facet::argmax(m, 1).to_vector<int64_t>() == std::vector<int64_t>{2, 1});
    const Values max0 = facet::max(m, 0).to_vector<double>();
    CHECK(max0[0] == 2.0);
    CHECK(std::isnan(max0[1]));
    CHECK(std::isnan(max0[2]));
    CHECK(facet::argmax(m, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 0});
    // A NaN in the sum gives NaN.
    CHECK(std::isnan(facet::sum(m).item<double>()));
  }
}

TEST_CASE("max and argmax over an empty dim are errors; sum over one is zero") {
  const Tensor e = facet::zeros({2, 0, 3});
  ft::expect_error([&] { facet::max(e, 1); }, {"max", "dim 1", "[2, 0, 3]"});
  ft::expect_error([&] { facet::max(e, 1, true); }, {"max", "[2, 0, 3]"});
  ft::expect_error([&] { facet::argmax(e, 1); }, {"argmax", "[2, 0, 3]"});
  ft::expect_error([&] { facet::max(e); }, {"max", "non-empty"});
  ft::expect_error([&] { facet::argmax(e); }, {"argmax", "non-empty"});
  ft::expect_error([] { facet::max(facet::zeros({0})); }, {"max", "[0]"});
  // Reducing a non-empty dim of an empty tensor is fine: the result is itself empty.
  CHECK(facet::max(e, 2).shape() == facet::Shape{2, 0});
  const Tensor s = facet::sum(e, 1);
  CHECK(s.shape() == facet::Shape{2, 3});
  CHECK(s.to_vector<double>() == Values(6, 0.0));
  CHECK(facet::sum(e).item<double>() == 0.0);
}

TEST_CASE("int64 sum, max and argmax") {
  const Tensor x = facet::tensor(std::vector<int64_t>{3, -1, 4, 1, -5, 9, 2, 6, 5, 3, 5, -8}, {3, 4});
  const Tensor s = facet::sum(x);
  CHECK(s.dtype() == facet::kInt64);
  CHECK(s.item<int64_t>() == 24);
  CHECK(facet::sum(x, 0).to_vector<int64_t>() == std::vector<int64_t>{3, 11, 11, -1});
  CHECK(facet::sum(x, 1, true).shape() == facet::Shape{3, 1});
  CHECK(facet::sum(x, 1, true).to_vector<int64_t>() == std::vector<int64_t>{7, 12, 5});
  CHECK(facet::max(x).item<int64_t>() == 9);
  CHECK(facet::max(x, 1).to_vector<int64_t>() == std::vector<int64_t>{4, 9, 5});
  CHECK(facet::argmax(x).item<int64_t>() == 5);
  CHECK(facet::argmax(x, 0).to_vector<int64_t>() == std::vector<int64_t>{2, 1, 2, 1});
  CHECK(facet::argmax(x, 1).to_vector<int64_t>() == std::vector<int64_t>{2, 1, 0});  // row 2 ties at 5: the first
  // Ties: the first maximal index.
  CHECK(facet::argmax(facet::tensor(std::vector<int64_t>{2, 7, 7, 1})).item<int64_t>() == 1);
  // Integer sums are exact beyond 2^53, where a double accumulator would round.
  const int64_t big = int64_t{1} << 53;
  const Tensor b = facet::tensor(std::vector<int64_t>{big, 1, 1, 1});
  CHECK(facet::sum(b).item<int64_t>() == big + 3);
  const Tensor b2 = facet::tensor(std::vector<int64_t>{big + 1, 1, -(big + 1), 5}, {2, 2});
  CHECK(facet::sum(b2, 0).to_vector<int64_t>() == std::vector<int64_t>{0, 6});
  CHECK(facet::sum(b2, 1).to_vector<int64_t>() == std::vector<int64_t>{big + 2, -big + 4});
  CHECK(facet::max(b2).item<int64_t>() == big + 1);
  CHECK(facet::argmax(facet::tensor(std::vector<int64_t>{big + 1, big + 2, big})).item<int64_t>() == 1);
}

TEST_CASE("sum, mean, max: gradcheck whole and along each dim, keepdim both ways") {
  using V = std::vector<Tensor>;
  uint64_t seed = 700;
  // Uniform draws in float64: ties have probability zero, so max has one well-defined winner.
  for (Kind k : {Kind::Sum, Kind::Mean, Kind::Max}) {
    CAPTURE(kind_name(k));
    FACET_CHECK_GRAD([k](const V& in) { return reduce_all(k, in[0]); }, (V{ft::grad_input({2, 3, 4}, ++seed)}));
    for (int64_t dim : {0, 1, 2, -1})
      for (bool keepdim : {false, true}) {
        CAPTURE(dim);
        CAPTURE(keepdim);
        FACET_CHECK_GRAD([k, dim, keepdim](const V& in) { return reduce(k, in[0], dim, keepdim); },
                         (V{ft::grad_input({2, 3, 4}, ++seed)}));
      }
  }
  // Composed with more ops: the reduced gradient broadcasts back correctly.
  FACET_CHECK_GRAD([](const V& in) { return facet::mul(facet::max(in[0], 1, true), in[0]); },
                   (V{ft::grad_input({3, 4}, ++seed)}));
  FACET_CHECK_GRAD([](const V& in) { return facet::mean(facet::sum(in[0], 0), 0); }, (V{ft::grad_input({3, 4}, ++seed)}));
  // On a transposed view.
  FACET_CHECK_GRAD([](const V& in) { return facet::max(in[0].t(), 1); }, (V{ft::grad_input({3, 4}, ++seed)}));
}

TEST_CASE("reductions: bad input") {
  const Tensor x = facet::zeros({2, 3});
  for (Kind k : kKinds) {
    CAPTURE(kind_name(k));
    ft::expect_error([&] { reduce(k, x, 2, false); }, {kind_name(k), "dim 2", "2-d"});
    ft::expect_error([&] { reduce(k, x, -3, true); }, {kind_name(k), "dim -3"});
  }
  ft::expect_error([] { facet::mean(facet::zeros({2, 3}, facet::kInt64)); }, {"mean", "int64[6]"});
  ft::expect_error([] { facet::mean(facet::zeros({2, 3}, facet::kInt64), 0); }, {"mean", "int64[2, 3]"});
}
