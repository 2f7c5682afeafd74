// matmul and linear: values against float64 loops, gradchecks, and bad input.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "tests/helpers.h"

namespace {

using facet::Tensor;
namespace ft = facet::tests;

// Reads element (b, i, j) of a logical [batch, rows, cols] operand.
using Accessor = std::function<double(int64_t b, int64_t i, int64_t j)>;

// A row-major [batch, rows, cols] block of host values; batch 1 broadcasts over any batch index.
Accessor dense(const std::vector<double>& v, int64_t batch, int64_t rows, int64_t cols) {
  return [v, batch, rows, cols](int64_t b, int64_t i, int64_t j) {
    const int64_t bb = batch == 1 ? 0 : b;
    return v[(bb * rows + i) * cols + j];
  };
}

// The same values read transposed in the last two dims: element (b, i, j) of base[b, j, i], where
// base is row-major [batch, cols, rows] (as a.transpose(-1, -2) of a contiguous base).
Accessor dense_t(const std::vector<double>& base, int64_t batch, int64_t rows, int64_t cols) {
  return [base, batch, rows, cols](int64_t b, int64_t i, int64_t j) {
    const int64_t bb = batch == 1 ? 0 : b;
    return base[(bb * cols + j) * rows + i];
  };
}

// out[b, i, j] = sum_p A(b, i, p) * B(b, p, j), in float64.
std::vector<double> ref_matmul(int64_t batch, int64_t m, int64_t k, int64_t n, const Accessor& A, const Accessor& B) {
  std::vector<double> out(batch * m * n, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += A(b, i, p) * B(b, p, j);
        out[(b * m + i) * n + j] = acc;
      }
  return out;
}

double tolerance(facet::DType dtype) { return dtype == facet::kFloat32 ? 1e-5 : 1e-12; }

struct Mkn {
  int64_t m, k, n;
};
// Awkward sizes: 1, 7 and 33 in every position.
const std::vector<Mkn> kSizes = {{1, 1, 1}, {7, 33, 1}, {33, 7, 33}, {1, 33, 7}, {7, 7, 7}, {33, 1, 7}};
const std::vector<facet::DType> kDtypes = {facet::kFloat32, facet::kFloat64};

// Draws a [a_batch, m, k] and b [b_batch, k, n] (batch 0: a 2-d operand), multiplies them and
// checks the product against the float64 loop reference; batch-1 operands broadcast.
void check_random_product(facet::Generator& gen, facet::DType dtype, const Mkn& s, int64_t a_batch, int64_t b_batch) {
  CAPTURE(facet::dtype_name(dtype));
  CAPTURE(a_batch);
  CAPTURE(b_batch);
  CAPTURE(s.m);
  CAPTURE(s.k);
  CAPTURE(s.n);
  const auto shape = [](int64_t batch, int64_t rows, int64_t cols) {
    return batch == 0 ? facet::Shape{rows, cols} : facet::Shape{batch, rows, cols};
  };
  const Tensor a = facet::randn(shape(a_batch, s.m, s.k), dtype, &gen);
  const Tensor b = facet::randn(shape(b_batch, s.k, s.n), dtype, &gen);
  const Tensor c = facet::matmul(a, b);
  const int64_t batch = std::max<int64_t>({a_batch, b_batch, 1});
  CHECK(c.shape() == (a_batch == 0 && b_batch == 0 ? facet::Shape{s.m, s.n} : facet::Shape{batch, s.m, s.n}));
  CHECK(c.dtype() == dtype);
  const auto ref = ref_matmul(batch, s.m, s.k, s.n, dense(a.to_vector<double>(), std::max<int64_t>(a_batch, 1), s.m, s.k),
                              dense(b.to_vector<double>(), std::max<int64_t>(b_batch, 1), s.k, s.n));
  CHECK(ft::rel_error(c, ref) < tolerance(dtype));
  CHECK(ft::rel_error(a.matmul(b), ref) < tolerance(dtype));  // the method form is the same function
}

}  // namespace

TEST_CASE("matmul: 2-d @ 2-d matches a float64 loop reference") {
  facet::Generator gen(101);
  for (facet::DType dtype : kDtypes)
    for (const Mkn& s : kSizes) check_random_product(gen, dtype, s, 0, 0);
}

TEST_CASE("matmul: a hand-computed 2x3 @ 3x2 product") {
  const Tensor a = facet::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = facet::tensor(std::vector<double>{7, 8, 9, 10, 11, 12}, {3, 2});
  // [1*7+2*9+3*11, 1*8+2*10+3*12; 4*7+5*9+6*11, 4*8+5*10+6*12]
  const std::vector<double> expected = {58, 64, 139, 154};
  CHECK(facet::matmul(a, b).to_vector<double>() == expected);
}

TEST_CASE("matmul: [B, m, k] @ [k, n] folds the batch") {
  facet::Generator gen(102);
  for (facet::DType dtype : kDtypes)
    for (const Mkn& s : kSizes)
      for (int64_t batch : {1, 3}) check_random_product(gen, dtype, s, batch, 0);
}

TEST_CASE("matmul: 4-d [2, 3, m, k] @ [k, n]") {
  facet::Generator gen(103);
  for (facet::DType dtype : kDtypes) {
    const Tensor a = facet::randn({2, 3, 7, 5}, dtype, &gen);
    const Tensor b = facet::randn({5, 33}, dtype, &gen);
    const Tensor c = facet::matmul(a, b);
    CHECK(c.shape() == facet::Shape{2, 3, 7, 33});
    const auto ref = ref_matmul(6, 7, 5, 33, dense(a.to_vector<double>(), 6, 7, 5), dense(b.to_vector<double>(), 1, 5, 33));
    CHECK(ft::rel_error(c, ref) < tolerance(dtype));
  }
}

TEST_CASE("matmul: batched [B, m, k] @ [B, k, n]") {
  facet::Generator gen(104);
  for (facet::DType dtype : kDtypes)
    for (const Mkn& s : kSizes) check_random_product(gen, dtype, s, 4, 4);
}

TEST_CASE("matmul: broadcast batch [1, m, k] @ [B, k, n], [B, m, k] @ [1, k, n] and [m, k] @ [B, k, n]") {
  facet::Generator gen(105);
  for (facet::DType dtype : kDtypes)
    for (const Mkn& s : kSizes) {
      check_random_product(gen, dtype, s, 1, 3);
      check_random_product(gen, dtype, s, 3, 1);
      check_random_product(gen, dtype, s, 0, 3);
    }
}

TEST_CASE("matmul: transposed views as operands") {
  facet::Generator gen(106);
  for (facet::DType dtype : kDtypes)
    for (const Mkn& s : kSizes) {
      CAPTURE(facet::dtype_name(dtype));
      CAPTURE(s.m);
      CAPTURE(s.k);
      CAPTURE(s.n);
      // The references read the contiguous bases, never the views.
      const Tensor a_base = facet::randn({s.k, s.m}, dtype, &gen);  // a = a_base.t() is [m, k]
      const Tensor b_base = facet::randn({s.n, s.k}, dtype, &gen);  // b = b_base.t() is [k, n]
      const Tensor a_plain = facet::randn({s.m, s.k}, dtype, &gen);
      const Tensor b_plain = facet::randn({s.k, s.n}, dtype, &gen);
      const auto at = dense_t(a_base.to_vector<double>(), 1, s.m, s.k);
      const auto bt = dense_t(b_base.to_vector<double>(), 1, s.k, s.n);
      const auto ap = dense(a_plain.to_vector<double>(), 1, s.m, s.k);
      const auto bp = dense(b_plain.to_vector<double>(), 1, s.k, s.n);

      CHECK(ft::rel_error(facet::matmul(a_base.t(), b_plain), ref_matmul(1, s.m, s.k, s.n, at, bp)) < tolerance(dtype));
      CHECK(ft::rel_error(facet::matmul(a_plain, b_base.t()), ref_matmul(1, s.m, s.k, s.n, ap, bt)) < tolerance(dtype));
      CHECK(ft::rel_error(facet::matmul(a_base.t(), b_base.t()), ref_matmul(1, s.m, s.k, s.n, at, bt)) <
            tolerance(dtype));

      // 3-d: b.transpose(-1, -2) as the right operand, a.transpose(-1, -2) as the left one.
      const int64_t batch = 2;
      const Tensor a3_base = facet::randn({batch, s.k, s.m}, dtype, &gen);
      const Tensor b3_base = facet::randn({batch, s.n, s.k}, dtype, &gen);
      const Tensor a3 = facet::randn({batch, s.m, s.k}, dtype, &gen);
      const auto a3t = dense_t(a3_base.to_vector<double>(), batch, s.m, s.k);
      const auto b3t = dense_t(b3_base.to_vector<double>(), batch, s.k, s.n);
      const auto a3p = dense(a3.to_vector<double>(), batch, s.m, s.k);
      const Tensor c1 = facet::matmul(a3, b3_base.transpose(-1, -2));
      CHECK(c1.shape() == facet::Shape{batch, s.m, s.n});
      CHECK(ft::rel_error(c1, ref_matmul(batch, s.m, s.k, s.n, a3p, b3t)) < tolerance(dtype));
      const Tensor c2 = facet::matmul(a3_base.transpose(-1, -2), b_plain);  // non-contiguous 3-d @ 2-d
      CHECK(c2.shape() == facet::Shape{batch, s.m, s.n});
      CHECK(ft::rel_error(c2, ref_matmul(batch, s.m, s.k, s.n, a3t, bp)) < tolerance(dtype));
      const Tensor c3 = facet::matmul(a3_base.transpose(-1, -2), b3_base.transpose(-1, -2));
      CHECK(ft::rel_error(c3, ref_matmul(batch, s.m, s.k, s.n, a3t, b3t)) < tolerance(dtype));
    }
}

TEST_CASE("matmul: operands with strides BLAS cannot take (every other column)") {
  facet::Generator gen(107);
  for (facet::DType dtype : kDtypes) {
    const int64_t m = 7, k = 5, n = 33;
    const Tensor a_wide = facet::randn({m, 2 * k}, dtype, &gen);
    const Tensor b_wide = facet::randn({k, 2 * n}, dtype, &gen);
    const Tensor a = a_wide.slice(1, 0, 2 * k, 2);  // column stride 2
    const Tensor b = b_wide.slice(1, 1, 2 * n, 2);
    const std::vector<double> av = a_wide.to_vector<double>(), bv = b_wide.to_vector<double>();
    const Accessor A = [&](int64_t, int64_t i, int64_t p) { return av[i * 2 * k + 2 * p]; };
    const Accessor B = [&](int64_t, int64_t p, int64_t j) { return bv[p * 2 * n + 2 * j + 1]; };
    CHECK(ft::rel_error(facet::matmul(a, b), ref_matmul(1, m, k, n, A, B)) < tolerance(dtype));
  }
}

TEST_CASE("matmul: an empty inner dim gives zeros") {
  const Tensor a = facet::ones({3, 0}, facet::kFloat64);
  const Tensor b = facet::ones({0, 2}, facet::kFloat64);
  const Tensor c = facet::matmul(a, b);
  CHECK(c.shape() == facet::Shape{3, 2});
  CHECK(c.to_vector<double>() == std::vector<double>(6, 0.0));
}

TEST_CASE("linear: x @ weight^T + bias against a float64 loop") {
  facet::Generator gen(108);
  for (facet::DType dtype : kDtypes) {
    CAPTURE(facet::dtype_name(dtype));
    const int64_t in = 33, out = 7;
    const Tensor w = facet::randn({out, in}, dtype, &gen);
    const Tensor bias = facet::randn({out}, dtype, &gen);
    const std::vector<double> wv = w.to_vector<double>(), bv = bias.to_vector<double>();
    // y[r, o] = sum_i x[r, i] * w[o, i] (+ bias[o])
    auto reference = [&](const std::vector<double>& xv, int64_t rows, bool with_bias) {
      std::vector<double> y(rows * out);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
          double acc = with_bias ? bv[o] : 0.0;
          for (int64_t i = 0; i < in; ++i) acc += xv[r * in + i] * wv[o * in + i];
          y[r * out + o] = acc;
        }
      return y;
    };
    const Tensor x2 = facet::randn({5, in}, dtype, &gen);
    const Tensor y2 = facet::linear(x2, w, bias);
    CHECK(y2.shape() == facet::Shape{5, out});
    CHECK(ft::rel_error(y2, reference(x2.to_vector<double>(), 5, true)) < tolerance(dtype));
    const Tensor y2n = facet::linear(x2, w);
    CHECK(ft::rel_error(y2n, reference(x2.to_vector<double>(), 5, false)) < tolerance(dtype));

    const Tensor x3 = facet::randn({2, 3, in}, dtype, &gen);
    const Tensor y3 = facet::linear(x3, w, bias);
    CHECK(y3.shape() == facet::Shape{2, 3, out});
    CHECK(ft::rel_error(y3, reference(x3.to_vector<double>(), 6, true)) < tolerance(dtype));

    const Tensor x1 = facet::randn({in}, dtype, &gen);
    const Tensor y1 = facet::linear(x1, w, bias);
    CHECK(y1.shape() == facet::Shape{out});
    CHECK(ft::rel_error(y1, reference(x1.to_vector<double>(), 1, true)) < tolerance(dtype));
  }
}

TEST_CASE("matmul: gradcheck in every shape family") {
  using V = std::vector<Tensor>;
  auto mm = [](const V& in) { return facet::matmul(in[0], in[1]); };
  SUBCASE("2-d @ 2-d") {
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({3, 4}, 1), ft::grad_input({4, 2}, 2)}));
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({1, 5}, 3), ft::grad_input({5, 1}, 4)}));
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({7, 1}, 5), ft::grad_input({1, 3}, 6)}));
  }
  SUBCASE("[B, m, k] @ [k, n]") {
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({2, 3, 4}, 7), ft::grad_input({4, 2}, 8)}));
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({3, 1, 2}, 9), ft::grad_input({2, 1}, 10)}));
  }
  SUBCASE("[B, m, k] @ [B, k, n]") {
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({2, 3, 4}, 11), ft::grad_input({2, 4, 2}, 12)}));
  }
  SUBCASE("broadcast batch") {
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({1, 3, 4}, 13), ft::grad_input({3, 4, 2}, 14)}));
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({3, 2, 4}, 15), ft::grad_input({1, 4, 3}, 16)}));
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({2, 3}, 17), ft::grad_input({2, 3, 2}, 18)}));
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({2, 1, 2, 3}, 19), ft::grad_input({3, 3, 2}, 20)}));
  }
  SUBCASE("transposed views") {
    FACET_CHECK_GRAD([](const V& in) { return facet::matmul(in[0].t(), in[1]); },
                     (V{ft::grad_input({4, 3}, 21), ft::grad_input({4, 2}, 22)}));
    FACET_CHECK_GRAD([](const V& in) { return facet::matmul(in[0], in[1].t()); },
                     (V{ft::grad_input({3, 4}, 23), ft::grad_input({2, 4}, 24)}));
    FACET_CHECK_GRAD([](const V& in) { return facet::matmul(in[0], in[1].transpose(-1, -2)); },
                     (V{ft::grad_input({2, 3, 4}, 25), ft::grad_input({2, 2, 4}, 26)}));
    FACET_CHECK_GRAD([](const V& in) { return facet::matmul(in[0].transpose(-1, -2), in[1]); },
                     (V{ft::grad_input({2, 4, 3}, 27), ft::grad_input({4, 2}, 28)}));
  }
  SUBCASE("one operand without grad") {
    Tensor fixed = ft::grad_input({4, 2}, 29);
    fixed.set_requires_grad(false);
    FACET_CHECK_GRAD(mm, (V{ft::grad_input({2, 3, 4}, 30), fixed}));
    FACET_CHECK_GRAD(mm, (V{fixed.t().contiguous(), ft::grad_input({3, 4, 5}, 31)}));
  }
}

TEST_CASE("linear: gradcheck with and without bias") {
  using V = std::vector<Tensor>;
  auto with_bias = [](const V& in) { return facet::linear(in[0], in[1], in[2]); };
  auto no_bias = [](const V& in) { return facet::linear(in[0], in[1]); };
  FACET_CHECK_GRAD(with_bias, (V{ft::grad_input({3, 4}, 41), ft::grad_input({2, 4}, 42), ft::grad_input({2}, 43)}));
  FACET_CHECK_GRAD(no_bias, (V{ft::grad_input({3, 4}, 44), ft::grad_input({2, 4}, 45)}));
  FACET_CHECK_GRAD(with_bias,
                   (V{ft::grad_input({2, 3, 4}, 46), ft::grad_input({3, 4}, 47), ft::grad_input({3}, 48)}));
  FACET_CHECK_GRAD(no_bias, (V{ft::grad_input({2, 3, 4}, 49), ft::grad_input({3, 4}, 50)}));
  FACET_CHECK_GRAD(with_bias, (V{ft::grad_input({4}, 51), ft::grad_input({3, 4}, 52), ft::grad_input({3}, 53)}));
}

TEST_CASE("matmul and linear: bad input names the op and the shapes") {
  SUBCASE("inner dims mismatch") {
    ft::expect_error([] { facet::matmul(facet::zeros({2, 3}), facet::zeros({4, 5})); },
                     {"matmul", "[2, 3]", "[4, 5]"});
    ft::expect_error([] { facet::matmul(facet::zeros({2, 2, 3}), facet::zeros({2, 4, 5})); },
                     {"matmul", "[2, 2, 3]", "[2, 4, 5]"});
    ft::expect_error([] { facet::matmul(facet::zeros({2, 2, 3}), facet::zeros({4, 5})); },
                     {"matmul", "[2, 2, 3]", "[4, 5]"});
  }
  SUBCASE("batch dims that do not broadcast") {
    ft::expect_error([] { facet::matmul(facet::zeros({2, 3, 4}), facet::zeros({3, 4, 5})); },
                     {"matmul", "[2]", "[3]"});
  }
  SUBCASE("1-d operand") {
    ft::expect_error([] { facet::matmul(facet::zeros({3}), facet::zeros({3, 2})); }, {"matmul", "[3]", "[3, 2]"});
    ft::expect_error([] { facet::matmul(facet::zeros({2, 3}), facet::zeros({3})); }, {"matmul", "[2, 3]", "[3]"});
  }
  SUBCASE("dtype mix") {
    ft::expect_error([] { facet::matmul(facet::zeros({2, 3}, facet::kFloat32), facet::zeros({3, 4}, facet::kFloat64)); },
                     {"matmul", "float32[2, 3]", "float64[3, 4]"});
  }
  SUBCASE("integer operands") {
    ft::expect_error([] { facet::matmul(facet::zeros({2, 3}, facet::kInt64), facet::zeros({3, 4}, facet::kInt64)); },
                     {"matmul", "int64[2, 3]"});
  }
  SUBCASE("linear with a wrong bias shape") {
    ft::expect_error([] { facet::linear(facet::zeros({2, 3}), facet::zeros({4, 3}), facet::zeros({5})); },
                     {"linear", "[4]", "[5]"});
    ft::expect_error([] { facet::linear(facet::zeros({2, 3}), facet::zeros({4, 3}), facet::zeros({1, 4})); },
                     {"linear", "[4]", "[1, 4]"});
  }
  SUBCASE("linear with mismatched in_features") {
    ft::expect_error([] { facet::linear(facet::zeros({2, 3}), facet::zeros({4, 5})); }, {"linear", "[2, 3]", "[4, 5]"});
  }
  SUBCASE("linear with a 1-d weight") {
    ft::expect_error([] { facet::linear(facet::zeros({2, 3}), facet::zeros({3})); }, {"linear", "[3]"});
  }
}
