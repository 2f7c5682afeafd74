// Elementwise ops: values against float64 formulas (float32 relative error < 1e-5), NumPy
// broadcasting, strided inputs, gradchecks for every differentiable op, and bad input.
#include <cmath>
#include <functional>

#include "tests/helpers.h"

using namespace facet;

namespace {

using Fn1 = std::function<Tensor(const Tensor&)>;
using Ref1 = std::function<double(double)>;

struct UnaryCase {
  const char* name;
  Fn1 fn;
  Ref1 ref;
  double lo, hi;  // input range where the op is defined and smooth
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return -x; }, [](double x) { return -x; }, -3, 3},
      {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, -3, 3},
      {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, 0.1, 5},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0.1, 5},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double x) { return std::fabs(x); }, -3, 3},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double x) { return x > 0 ? x : 0.0; }, -3, 3},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, [](double x) { return 1 / (1 + std::exp(-x)); }, -6, 6},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -3, 3},
      {"pow 2.5", [](const Tensor& x) { return pow(x, 2.5); }, [](double x) { return std::pow(x, 2.5); }, 0.1, 3},
      {"pow -1", [](const Tensor& x) { return x.pow(-1.0); }, [](double x) { return 1 / x; }, 0.5, 3},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.75); },
       [](double x) { return std::min(std::max(x, -0.5), 0.75); }, -2, 2},
      {"clamp_min", [](const Tensor& x) { return clamp_min(x, 0.2); }, [](double x) { return std::max(x, 0.2); }, -2, 2},
      {"clamp_max", [](const Tensor& x) { return clamp_max(x, 0.2); }, [](double x) { return std::min(x, 0.2); }, -2, 2},
  };
}

std::vector<double> apply_ref(const Ref1& f, const std::vector<double>& x) {
  std::vector<double> out;
  for (double v : x) out.push_back(f(v));
  return out;
}

}  // namespace

TEST_CASE("unary ops match their float64 formulas at awkward sizes") {
  for (const UnaryCase& c : unary_cases()) {
    for (int64_t n : {1, 7, 33, 1023, 4097}) {
      Generator gen(n);
      const Tensor x = uniform({n}, c.lo, c.hi, kFloat32, &gen);
      INFO(c.name << " n=" << n);
      // The reference takes the float32 inputs exactly, so only the op's own rounding shows.
      CHECK(tests::rel_error(c.fn(x), apply_ref(c.ref, x.to_vector<double>())) < 1e-5);
      const Tensor xd = x.to(kFloat64);
      CHECK(tests::rel_error(c.fn(xd), apply_ref(c.ref, xd.to_vector<double>())) < 1e-13);
    }
  }
}

TEST_CASE("unary ops read strided views") {
  Generator gen(9);
  const Tensor base = uniform({6, 8}, 0.5, 2.0, kFloat64, &gen);
  const Tensor view = base.t().slice(0, 1, 8, 3);  // non-contiguous, offset, stepped
  CHECK_FALSE(view.is_contiguous());
  CHECK(tests::rel_error(log(view), apply_ref([](double x) { return std::log(x); }, view.to_vector<double>())) < 1e-14);
}

TEST_CASE("sigmoid neither overflows nor loses the tails") {
  const Tensor x = tensor(std::vector<double>{-800, -40, 0, 40, 800});
  const std::vector<double> y = sigmoid(x).to_vector<double>();
  CHECK(y[0] == 0.0);
  CHECK(y[1] == doctest::Approx(std::exp(-40.0)).epsilon(1e-12));
  CHECK(y[2] == 0.5);
  CHECK(y[4] == 1.0);
  for (double v : y) CHECK(std::isfinite(v));
}

TEST_CASE("binary ops broadcast as NumPy does") {
  const Tensor a = tensor(std::vector<double>{1, 2, 3}, {3, 1});
  const Tensor b = tensor(std::vector<double>{10, 20, 30, 40}, {4});
  const Tensor s = a + b;
  CHECK(s.shape() == Shape{3, 4});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) CHECK(s.at<double>({i, j}) == (i + 1) + 10.0 * (j + 1));
  CHECK((a - b).at<double>({2, 0}) == 3 - 10);
  CHECK((a * b).at<double>({1, 3}) == 2 * 40);
  CHECK((b / a).at<double>({2, 1}) == 20.0 / 3.0);
  CHECK(pow(a, b / 10.0).at<double>({1, 2}) == std::pow(2.0, 3.0));
  CHECK((2.0 - a).to_vector<double>() == std::vector<double>{1, 0, -1});
  CHECK((a * 2.0 + 1.0).to_vector<double>() == std::vector<double>{3, 5, 7});
  CHECK((6.0 / a).to_vector<double>() == std::vector<double>{6, 3, 2});
  CHECK((ones({2, 1, 3}) + ones({5, 1})).shape() == Shape{2, 5, 3});
  CHECK((scalar_tensor(1.0) + ones({2, 2})).shape() == Shape{2, 2});
}

TEST_CASE("binary ops on random operands at awkward sizes match float64") {
  for (int64_t n : {1, 7, 33, 1023, 4097}) {
    Generator gen(100 + n);
    const Tensor a = uniform({n}, 0.5, 2.0, kFloat32, &gen), b = uniform({n}, 0.5, 2.0, kFloat32, &gen);
    const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
    std::vector<double> sum, prod, quot, pw;
    for (int64_t i = 0; i < n; ++i) {
      sum.push_back(av[i] + bv[i]);
      prod.push_back(av[i] * bv[i]);
      quot.push_back(av[i] / bv[i]);
      pw.push_back(std::pow(av[i], bv[i]));
    }
    CHECK(tests::rel_error(a + b, sum) < 1e-5);
    CHECK(tests::rel_error(a * b, prod) < 1e-5);
    CHECK(tests::rel_error(a / b, quot) < 1e-5);
    CHECK(tests::rel_error(pow(a, b), pw) < 1e-5);
    // Broadcasting a row over a transposed (non-contiguous) matrix.
    const Tensor m = uniform({n, 3}, -1, 1, kFloat32, &gen).t();  // [3, n], strides {1, 3}
    const Tensor r = (m + a).to(kFloat64);
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < n; j += std::max<int64_t>(1, n / 5))
        CHECK(r.at<double>({i, j}) == doctest::Approx(m.at<double>({i, j}) + av[j]).epsilon(1e-6));
  }
}

TEST_CASE("comparisons, maximum/minimum and where") {
  const Tensor a = tensor(std::vector<float>{1, 2, 3});
  const Tensor b = tensor(std::vector<float>{3, 2, 1});
  CHECK(eq(a, b).to_vector<float>() == std::vector<float>{0, 1, 0});
  CHECK(ne(a, b).to_vector<float>() == std::vector<float>{1, 0, 1});
  CHECK(lt(a, b).to_vector<float>() == std::vector<float>{1, 0, 0});
  CHECK(le(a, b).to_vector<float>() == std::vector<float>{1, 1, 0});
  CHECK(gt(a, b).to_vector<float>() == std::vector<float>{0, 0, 1});
  CHECK(ge(a, b).to_vector<float>() == std::vector<float>{0, 1, 1});
  CHECK(ops::binary(BinaryOp::Maximum, a, b).to_vector<float>() == std::vector<float>{3, 2, 3});
  CHECK(ops::binary(BinaryOp::Minimum, a, b).to_vector<float>() == std::vector<float>{1, 2, 1});
  CHECK(where(gt(a, b), a, b * 10.0).to_vector<float>() == std::vector<float>{30, 20, 3});
  // The condition broadcasts too: a column condition picks whole rows.
  const Tensor cond = tensor(std::vector<float>{1, 0}, {2, 1});
  CHECK(where(cond, ones({2, 3}), zeros({3})).to_vector<float>() == std::vector<float>{1, 1, 1, 0, 0, 0});
  // Integer labels compare exactly (accuracy counting).
  const Tensor y = tensor(std::vector<int64_t>{1, 2, 3}), p = tensor(std::vector<int64_t>{1, 0, 3});
  CHECK(eq(y, p).sum().item<int64_t>() == 2);
  CHECK((y + p).to_vector<int64_t>() == std::vector<int64_t>{2, 2, 6});
}

TEST_CASE("NaN behaves as in PyTorch: it propagates through clamp, relu keeps it out only via x > 0") {
  const Tensor x = tensor(std::vector<double>{NAN, 1.0});
  CHECK(std::isnan(clamp(x, 0, 0.5).at<double>({0})));
  CHECK(clamp(x, 0, 0.5).at<double>({1}) == 0.5);
  CHECK(std::isnan(ops::binary(BinaryOp::Maximum, x, zeros({2}, kFloat64)).at<double>({0})));
}

TEST_CASE("gradcheck: every differentiable unary op") {
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name);
    // Keep clear of the kinks of abs, relu and clamp, where finite differences straddle two slopes.
    Tensor x = tests::grad_input({2, 3}, 17, c.lo, c.hi);
    if (std::string(c.name) == "abs" || std::string(c.name) == "relu")
      x = tensor(std::vector<double>{-2.0, -0.7, -0.3, 0.4, 1.1, 2.5}, {2, 3}).set_requires_grad(true);
    if (std::string(c.name).rfind("clamp", 0) == 0)
      x = tensor(std::vector<double>{-1.5, -0.1, 0.1, 0.6, 0.9, 1.7}, {2, 3}).set_requires_grad(true);
    FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x});
  }
}

TEST_CASE("gradcheck: binary ops, with broadcasting on either side") {
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&, const Tensor&)>>> ops_list = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }},
  };
  const std::vector<std::pair<Shape, Shape>> shapes = {{{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3, 1}, {1, 4}}, {{}, {2, 2}}};
  for (const auto& [name, fn] : ops_list) {
    for (const auto& [sa, sb] : shapes) {
      INFO(name << " " << shape_str(sa) << " " << shape_str(sb));
      const Tensor a = tests::grad_input(sa, 1, 0.5, 2.0), b = tests::grad_input(sb, 2, 0.5, 2.0);
      FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return fn(in[0], in[1]); }, (std::vector<Tensor>{a, b}));
    }
  }
}

TEST_CASE("add_relu is relu(a + b) in one op, forward and backward, with broadcasting") {
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype_name(dtype));
    Generator gen(23);
    const Tensor a = uniform({4, 33}, -2, 2, dtype, &gen).set_requires_grad(true);
    const Tensor b = uniform({33}, -2, 2, dtype, &gen).set_requires_grad(true);
    const Tensor g = uniform({4, 33}, -1, 1, dtype, &gen);
    const Tensor y = add_relu(a, b);
    const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>(), gv = g.to_vector<double>();
    std::vector<double> want(av.size()), want_ga(av.size()), want_gb(bv.size(), 0.0);
    for (size_t i = 0; i < av.size(); ++i) {
      const double sum = av[i] + bv[i % 33];
      want[i] = sum > 0 ? sum : 0.0;
      want_ga[i] = sum > 0 ? gv[i] : 0.0;
      want_gb[i % 33] += want_ga[i];
    }
    CHECK(tests::rel_error(y, want) < (dtype == kFloat32 ? 1e-6 : 1e-15));
    y.backward(g);
    CHECK(tests::rel_error(a.grad(), want_ga) < 1e-15);
    CHECK(tests::rel_error(b.grad(), want_gb) < (dtype == kFloat32 ? 1e-6 : 1e-15));
    // The same values and gradients as the two ops it replaces.
    const Tensor a2 = a.detach().set_requires_grad(true), b2 = b.detach().set_requires_grad(true);
    const Tensor y2 = relu(a2 + b2);
    CHECK(ops::binary(BinaryOp::Eq, y, y2).sum().item<double>() == y.numel());
    y2.backward(g);
    CHECK(ops::binary(BinaryOp::Eq, a.grad(), a2.grad()).sum().item<double>() == a.numel());
  }
  // Away from the kink (a + b = 0), where finite differences would straddle two slopes.
  const Tensor a = tensor(std::vector<double>{-2.0, -0.7, 0.4, 1.1, 2.5, -1.3}, {2, 3}).set_requires_grad(true);
  const Tensor b = tensor(std::vector<double>{0.3, -0.2, 0.9}).set_requires_grad(true);
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return add_relu(in[0], in[1]); }, (std::vector<Tensor>{a, b}));
  tests::expect_error([] { add_relu(zeros({2, 3}), zeros({4})); }, {"add_relu", "broadcast", "[2, 3]", "[4]"});
}

TEST_CASE("relu's gradient is a select: an inf or NaN gradient where the unit is off gives 0") {
  const Tensor x = tensor(std::vector<double>{-1.0, 2.0, -3.0, 4.0}).set_requires_grad(true);
  relu(x).backward(tensor(std::vector<double>{INFINITY, 5.0, NAN, -6.0}));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0.0, 5.0, 0.0, -6.0});
  CHECK(!std::signbit(x.grad().at<double>({0})));  // +0, where g * (x > 0) gave NaN or -0
}

TEST_CASE("gradcheck: where sends the gradient to the branch it picked") {
  const Tensor cond = tensor(std::vector<double>{1, 0, 1, 0, 0, 1}, {2, 3});
  const Tensor a = tests::grad_input({2, 3}, 3), b = tests::grad_input({3}, 4);
  FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); }, (std::vector<Tensor>{a, b}));
}

TEST_CASE("gradcheck: a scalar operand on either side") {
  const Tensor x = tests::grad_input({4}, 5, 0.5, 2.0);
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return 3.0 / (1.0 - in[0] * 0.25) + 2.0; }, {x});
}

TEST_CASE("every binary op rejects shapes that cannot broadcast, naming itself and both shapes") {
  const Tensor a = zeros({2, 3}), b = zeros({4});
  const std::vector<std::pair<const char*, std::function<Tensor()>>> cases = {
      {"add", [&] { return a + b; }},          {"sub", [&] { return a - b; }},
      {"mul", [&] { return a * b; }},          {"div", [&] { return a / b; }},
      {"pow", [&] { return pow(a, b); }},      {"eq", [&] { return eq(a, b); }},
      {"ne", [&] { return ne(a, b); }},        {"lt", [&] { return lt(a, b); }},
      {"le", [&] { return le(a, b); }},        {"gt", [&] { return gt(a, b); }},
      {"ge", [&] { return ge(a, b); }},        {"where", [&] { return where(a, a, b); }},
      {"maximum", [&] { return ops::binary(BinaryOp::Maximum, a, b); }},
      {"minimum", [&] { return ops::binary(BinaryOp::Minimum, a, b); }},
  };
  for (const auto& [name, fn] : cases) {
    INFO(name);
    tests::expect_error(fn, {std::string("facet::") + name + ":", "broadcast", "[2, 3]", "[4]"});
  }
}

TEST_CASE("bad input to elementwise ops") {
  const Tensor a = zeros({2, 3}), b = zeros({4});
  tests::expect_error([&] { a + b; }, {"add", "broadcast", "[2, 3]", "[4]"});
  tests::expect_error([&] { a * zeros({2, 3}, kFloat64); }, {"mul", "one dtype", "float32[2, 3]", "float64[2, 3]"});
  tests::expect_error([&] { exp(zeros({2}, kInt64)); }, {"exp", "float32 or float64", "int64"});
  tests::expect_error([&] { zeros({2}, kInt64) / zeros({2}, kInt64); }, {"div", "int64"});
  tests::expect_error([&] { clamp(a, 1.0, -1.0); }, {"clamp", "lo <= hi"});
  tests::expect_error([&] { where(zeros({2}), a, b); }, {"where", "broadcast"});
  float host[3] = {0, 0, 0};
  const Tensor on_gpu = from_blob(host, {3}, kFloat32, Device{DeviceType::CUDA, 0});
  tests::expect_error([&] { ones({3}) + on_gpu; }, {"add", "one device", "cpu", "cuda:0"});
  // Without a GPU the op names the missing backend; with one, this host pointer must never reach a kernel.
  if (cuda_device_count() == 0) tests::expect_error([&] { exp(on_gpu); }, {"exp", "CUDA", "cuda:0"});
}

TEST_CASE("large tensors, cut into pieces across threads, match element by element") {
  // Past cpu::kParallelGrain the kernels split rows into pieces; odd sizes leave a short last piece.
  Generator gen(77);
  const int64_t n = 3 * 32768 + 5;
  const Tensor a = uniform({n}, -1, 1, kFloat64, &gen), b = uniform({2 * n}, -1, 1, kFloat64, &gen);
  const Tensor b_strided = b.slice(0, 1, 2 * n, 2);  // step 2: a long row with a non-unit stride
  const std::vector<double> av = a.to_vector<double>(), bv = b_strided.to_vector<double>();
  const std::vector<double> sum = (a + b_strided).to_vector<double>();
  const std::vector<double> scaled = (a * scalar_tensor(3.0, kFloat64)).to_vector<double>();
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) wrong += sum[i] != av[i] + bv[i] || scaled[i] != av[i] * 3.0;
  CHECK(wrong == 0);
  // A large transposed copy (contiguous()) keeps every element in its place.
  const Tensor m = uniform({301, 307}, -1, 1, kFloat32, &gen);
  const Tensor mt = m.t().contiguous();
  int64_t misplaced = 0;
  for (int64_t i = 0; i < 307; i += 7)
    for (int64_t j = 0; j < 301; ++j) misplaced += mt.at<float>({i, j}) != m.at<float>({j, i});
  CHECK(misplaced == 0);
}
