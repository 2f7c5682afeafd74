// Optimizers against PyTorch's update formulas worked by hand for a few steps, parameter groups,
// state save/load, and each scheduler's learning-rate sequence.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "tests/helpers.h"

using namespace facet;

namespace {

// A one-element parameter whose loss is 0.5 * c * p^2, so its gradient is c * p.
struct Quadratic {
  Tensor p;
  double c;
  Quadratic(double p0, double c) : p(tensor(std::vector<double>{p0}).set_requires_grad(true)), c(c) {}
  void backward() { (p * p * (0.5 * c)).sum().backward(); }
  double value() const { return p.item<double>(); }
};

}  // namespace

TEST_CASE("SGD: plain, momentum with dampening, nesterov, weight decay — three steps by hand") {
  // Hand values for p0 = 1, grad = 2p, lr = 0.1.
  {  // plain: p <- p - 0.1 * 2p = 0.8 p
    Quadratic q(1.0, 2.0);
    optim::SGD opt({q.p}, optim::SGDOptions(0.1));
    for (double expected : {0.8, 0.64, 0.512}) {
      opt.zero_grad();
      q.backward();
      opt.step();
      CHECK(q.value() == doctest::Approx(expected).epsilon(1e-14));
    }
  }
  {  // momentum 0.9, dampening 0.5: b1 = g1 = 2; p1 = 1 - 0.2 = 0.8
     // g2 = 1.6, b2 = 0.9 * 2 + 0.5 * 1.6 = 2.6; p2 = 0.8 - 0.26 = 0.54
     // g3 = 1.08, b3 = 0.9 * 2.6 + 0.5 * 1.08 = 2.88; p3 = 0.54 - 0.288 = 0.252
    Quadratic q(1.0, 2.0);
    optim::SGD opt({q.p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.5));
    for (double expected : {0.8, 0.54, 0.252}) {
      opt.zero_grad();
      q.backward();
      opt.step();
      CHECK(q.value() == doctest::Approx(expected).epsilon(1e-14));
    }
  }
  {  // nesterov, momentum 0.9: b1 = 2, step g + 0.9 b = 3.8, p1 = 0.62
     // g2 = 1.24, b2 = 1.8 + 1.24 = 3.04, step 1.24 + 2.736 = 3.976, p2 = 0.62 - 0.3976 = 0.2224
    Quadratic q(1.0, 2.0);
    optim::SGD opt({q.p}, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
    for (double expected : {0.62, 0.2224}) {
      opt.zero_grad();
      q.backward();
      opt.step();
      CHECK(q.value() == doctest::Approx(expected).epsilon(1e-14));
    }
  }
  {  // weight decay 0.5: g = 2p + 0.5p = 2.5p, p <- 0.75 p
    Quadratic q(1.0, 2.0);
    optim::SGD opt({q.p}, optim::SGDOptions(0.1).weight_decay(0.5));
    for (double expected : {0.75, 0.5625}) {
      opt.zero_grad();
      q.backward();
      opt.step();
      CHECK(q.value() == doctest::Approx(expected).epsilon(1e-14));
    }
  }
}

TEST_CASE("Adam and AdamW follow PyTorch's formulas step by step") {
  // An independent scalar implementation of the documented formulas.
  const auto reference = [](bool decoupled, double wd, int steps) {
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, c = 3.0;
    double p = 1.0, m = 0, v = 0;
    for (int t = 1; t <= steps; ++t) {
      double g = c * p;
      if (decoupled) p *= 1 - lr * wd;
      else g += wd * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const double m_hat = m / (1 - std::pow(b1, t)), v_hat = v / (1 - std::pow(b2, t));
      p -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
    return p;
  };
  for (bool decoupled : {false, true})
    for (double wd : {0.0, 0.1}) {
      INFO("decoupled " << decoupled << " weight_decay " << wd);
      Quadratic q(1.0, 3.0);
      const optim::AdamOptions options = optim::AdamOptions(0.01).weight_decay(wd);
      std::unique_ptr<optim::Optimizer> opt;
      if (decoupled) opt = std::make_unique<optim::AdamW>(std::vector<Tensor>{q.p}, options);
      else opt = std::make_unique<optim::Adam>(std::vector<Tensor>{q.p}, options);
      for (int step = 1; step <= 4; ++step) {
        opt->zero_grad();
        q.backward();
        opt->step();
        CHECK(q.value() == doctest::Approx(reference(decoupled, wd, step)).epsilon(1e-12));
      }
    }
  // Step one moves every coordinate by about lr, whatever the gradient's scale (sign(g) * lr).
  Tensor w = tensor(std::vector<double>{1, 1, 1}).set_requires_grad(true);
  optim::Adam adam({w}, optim::AdamOptions(0.01));
  (w * tensor(std::vector<double>{1e-3, 1, 1e3})).sum().backward();
  adam.step();
  for (double x : w.to_vector<double>()) CHECK(x == doctest::Approx(0.99).epsilon(1e-6));
}

TEST_CASE("parameter groups keep their own options; parameters without a gradient stay put") {
  Tensor a = tensor(std::vector<double>{1}).set_requires_grad(true);
  Tensor b = tensor(std::vector<double>{1}).set_requires_grad(true);
  Tensor idle = tensor(std::vector<double>{5}).set_requires_grad(true);
  optim::SGD opt({{{a}, optim::SGDOptions(0.1)}, {{b, idle}, optim::SGDOptions(0.01)}});
  CHECK(opt.num_param_groups() == 2);
  ((a + b) * 1.0).sum().backward();
  opt.step();
  CHECK(a.item<double>() == doctest::Approx(0.9));
  CHECK(b.item<double>() == doctest::Approx(0.99));
  CHECK(idle.item<double>() == 5.0);
  opt.set_lr(1, 0.5);
  CHECK(opt.lr(1) == 0.5);
  CHECK(opt.lr(0) == 0.1);
  // The libtorch spelling: one group per parameter list, shared options.
  nn::Linear net(2, 2), head(2, 3);
  optim::SGD both({net->parameters(), head->parameters()}, optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  CHECK(both.num_param_groups() == 2);
  CHECK(both.params(1).size() == 2);
}

TEST_CASE("optimizer state saves and loads: a restored optimizer continues exactly") {
  const std::string path = (std::filesystem::temp_directory_path() / ("facet-optim-" + std::to_string(getpid()))).string();
  Quadratic q1(1.0, 2.0), q2(1.0, 2.0);
  optim::Adam a1({q1.p}, optim::AdamOptions(0.05)), a2({q2.p}, optim::AdamOptions(0.05));
  for (int s = 0; s < 3; ++s) {
    a1.zero_grad();
    q1.backward();
    a1.step();
  }
  a1.save(path);
  {
    NoGradGuard no_grad;
    q2.p.copy_(q1.p);
  }
  a2.load(path);
  a1.zero_grad();
  q1.backward();
  a1.step();
  a2.zero_grad();
  q2.backward();
  a2.step();
  CHECK(q2.value() == q1.value());
  // State for a parameter of another shape is refused with the name of the state.
  Tensor wide = zeros({3}, kFloat64).set_requires_grad(true);
  optim::Adam other({wide}, optim::AdamOptions());
  tests::expect_error([&] { other.load(path); }, {"load", "\"0.0.exp_avg\"", "float64[3]"});
  std::filesystem::remove(path);
}

TEST_CASE("schedulers: each one's learning-rate sequence") {
  const auto run = [](auto make, int steps) {
    Tensor p = zeros({1}, kFloat64).set_requires_grad(true);
    optim::SGD opt({p}, optim::SGDOptions(1.0));
    auto scheduler = make(opt);
    std::vector<double> lrs{opt.lr(0)};
    for (int s = 0; s < steps; ++s) {
      scheduler.step();
      lrs.push_back(opt.lr(0));
    }
    return lrs;
  };
  const auto near = [](const std::vector<double>& got, const std::vector<double>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
  };
  near(run([](optim::Optimizer& o) { return optim::StepLR(o, 2, 0.5); }, 5), {1, 1, 0.5, 0.5, 0.25, 0.25});
  near(run([](optim::Optimizer& o) { return optim::MultiStepLR(o, {1, 3}, 0.1); }, 4), {1, 0.1, 0.1, 0.01, 0.01});
  near(run([](optim::Optimizer& o) { return optim::MultiStepLR(o, {0, 2}, 0.5); }, 2), {0.5, 0.5, 0.25});
  near(run([](optim::Optimizer& o) { return optim::PolynomialLR(o, 4, 2.0); }, 5), {1, 0.5625, 0.25, 0.0625, 0, 0});
  // Warm-up over 2 epochs from 0, then cosine from 1 to 0.1 over epochs 2..6.
  const double pi = std::acos(-1.0);
  std::vector<double> cosine{0.0, 0.5};
  for (int t = 2; t <= 7; ++t) cosine.push_back(0.1 + 0.9 * (1 + std::cos(pi * std::min(t - 2, 4) / 4.0)) / 2);
  near(run([](optim::Optimizer& o) { return optim::CosineWarmupLR(o, 2, 6, 0.1); }, 7), cosine);
}

TEST_CASE("bad optimizer input") {
  Tensor p = zeros({2}).set_requires_grad(true);
  tests::expect_error([&] { optim::SGD({p}, optim::SGDOptions(-1)); }, {"SGD", "lr"});
  tests::expect_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).nesterov(true)); }, {"SGD", "nesterov"});
  tests::expect_error([&] { optim::Adam({p}, optim::AdamOptions().betas(1.0, 0.9)); }, {"Adam", "betas"});
  tests::expect_error([&] { optim::SGD({p * 2.0}, optim::SGDOptions(0.1)); }, {"SGD", "leaf", "MulBackward"});
  tests::expect_error([&] { optim::SGD({zeros({2}, kInt64)}, optim::SGDOptions(0.1)); }, {"SGD", "int64"});
  tests::expect_error([&] { optim::SGD({p, p}, optim::SGDOptions(0.1)); }, {"SGD", "a second time"});
  tests::expect_error([&] { optim::SGD(std::vector<Tensor>{}, optim::SGDOptions(0.1)); }, {"SGD", "empty"});
  tests::expect_error([&] {
    optim::SGD opt({p}, optim::SGDOptions(0.1));
    optim::StepLR(opt, 0);
  }, {"StepLR", "step_size"});
}

TEST_CASE("frozen parameters are accepted and stay put; AdamWOptions carries PyTorch's weight decay") {
  Tensor frozen = ones({2});  // requires_grad false: never gets a gradient
  Tensor live = ones({2}).set_requires_grad(true);
  optim::SGD opt({frozen, live}, optim::SGDOptions(0.5));
  (live * 2.0).sum().backward();
  opt.step();
  CHECK(frozen.to_vector<float>() == std::vector<float>{1, 1});
  CHECK(live.to_vector<float>() == std::vector<float>{0, 0});
  CHECK(optim::AdamWOptions(0.01).weight_decay_ == 1e-2);
  CHECK(optim::AdamOptions(0.01).weight_decay_ == 0.0);
}

TEST_CASE("optimizer state of another optimizer, or incomplete, is refused") {
  const auto path = (std::filesystem::temp_directory_path() / ("facet-optim2-" + std::to_string(getpid()))).string();
  Quadratic q(1.0, 2.0);
  optim::SGD sgd({q.p}, optim::SGDOptions(0.1).momentum(0.9));
  q.backward();
  sgd.step();
  sgd.save(path);
  optim::Adam adam({q.p}, optim::AdamOptions());
  tests::expect_error([&] { adam.load(path); }, {"load", "Adam state (step, exp_avg, exp_avg_sq)", "momentum_buffer"});
  nn::save_tensors({{"0.0.exp_avg", zeros({1}, kFloat64)}}, path);
  tests::expect_error([&] { adam.load(path); }, {"load", "all of a parameter's state, or none", "1 of 3"});
  nn::save_tensors({{"0.0.step", full({1}, -1.0, kFloat64)}, {"0.0.exp_avg", zeros({1}, kFloat64)},
                    {"0.0.exp_avg_sq", zeros({1}, kFloat64)}}, path);
  tests::expect_error([&] { adam.load(path); }, {"load", "whole number >= 0"});
  std::filesystem::remove(path);
}

namespace {

// SGD's update composed of elementwise ops, one op per term (what SGD::step ran before the fused
// kernel): g + wd·p, momentum·buf + (1 - dampening)·g, g + momentum·buf, p - lr·g.
void composed_sgd_step(Tensor& p, const Tensor& grad, Tensor& buffer, const optim::SGDOptions& o, bool first) {
  using ops::binary;
  Tensor g = grad;
  if (o.weight_decay_ != 0) g = binary(BinaryOp::Add, g, binary(BinaryOp::Mul, p, o.weight_decay_));
  if (o.momentum_ != 0) {
    buffer = first ? ops::clone(g)
                   : binary(BinaryOp::Add, binary(BinaryOp::Mul, buffer, o.momentum_), binary(BinaryOp::Mul, g, 1.0 - o.dampening_));
    g = o.nesterov_ ? binary(BinaryOp::Add, g, binary(BinaryOp::Mul, buffer, o.momentum_)) : buffer;
  }
  p = binary(BinaryOp::Add, p, binary(BinaryOp::Mul, g, -o.lr_));
}

// Leaves grad in p.grad(), exactly: d/dp sum(p * grad) = grad.
void give_grad(optim::Optimizer& opt, const Tensor& p, const Tensor& grad) {
  opt.zero_grad();
  (p * grad).sum().backward();
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>();
}

}  // namespace

TEST_CASE("SGD's fused step equals the same update composed of elementwise ops, bit for bit, in float32") {
  const std::vector<optim::SGDOptions> cases = {
      optim::SGDOptions(0.1),
      optim::SGDOptions(0.05).weight_decay(5e-4),
      optim::SGDOptions(0.1).momentum(0.9).dampening(0.3).weight_decay(1e-3),
      optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4).nesterov(true),
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    CAPTURE(k);
    manual_seed(7 + k);
    Tensor p = randn({37, 53}).set_requires_grad(true);  // 1961 elements: no SIMD width divides it
    Tensor reference = p.detach().clone(), buffer;
    optim::SGD opt({p}, cases[k]);
    for (int step = 0; step < 4; ++step) {
      const Tensor grad = randn({37, 53}) * 3.0;
      give_grad(opt, p, grad);
      REQUIRE(bitwise_equal(p.grad(), grad));
      opt.step();
      composed_sgd_step(reference, grad, buffer, cases[k], step == 0);
      CHECK(bitwise_equal(p.detach(), reference));
    }
    // The update moved p: the check above compared something.
    CHECK_FALSE(bitwise_equal(p.detach(), randn({37, 53})));
  }
}

TEST_CASE("SGD updates a non-contiguous parameter as it updates the same values laid out contiguously") {
  manual_seed(3);
  Tensor base = randn({5, 9});
  Tensor strided = base.clone().t().set_requires_grad(true);  // [9, 5], strides (1, 9)
  Tensor packed = base.clone().t().contiguous().set_requires_grad(true);
  REQUIRE_FALSE(strided.is_contiguous());
  const auto o = optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(1e-2);
  optim::SGD a({strided}, o), b({packed}, o);
  for (int step = 0; step < 3; ++step) {
    const Tensor grad = randn({9, 5});
    give_grad(a, strided, grad);
    give_grad(b, packed, grad);
    a.step();
    b.step();
  }
  CHECK_FALSE(strided.is_contiguous());
  CHECK(bitwise_equal(strided.detach().contiguous(), packed.detach()));
}

TEST_CASE("a capturable SGD takes its rate from memory: a scheduled run equals a plain SGD's, bit for bit") {
  manual_seed(11);
  Tensor a = randn({37, 53}).set_requires_grad(true);
  Tensor b = a.detach().clone().set_requires_grad(true);
  const auto o = optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4).nesterov(true);
  optim::SGD plain({a}, o), capturable({b}, optim::SGDOptions(o).capturable(true));
  optim::CosineWarmupLR plain_schedule(plain, 2, 6), capturable_schedule(capturable, 2, 6);
  for (int step = 0; step < 6; ++step) {
    const Tensor grad = randn({37, 53});
    give_grad(plain, a, grad);
    give_grad(capturable, b, grad);
    plain.step();
    capturable.step();
    plain_schedule.step();  // set_lr refills the capturable SGD's rate tensor
    capturable_schedule.step();
    CHECK(bitwise_equal(a.detach(), b.detach()));
  }
}

TEST_SUITE("cuda") {
  // A capturable group may span devices (here the CPU and a GPU, as a model split over GPUs would):
  // each device keeps its own rate tensor, and set_lr refills every one.
  TEST_CASE("[cuda] a capturable SGD over parameters on two devices follows the schedule on both") {
    manual_seed(12);
    const Tensor first = randn({5, 7}), second = randn({33});
    Tensor a1 = first.clone().set_requires_grad(true), a2 = second.clone().set_requires_grad(true);
    Tensor b1 = first.clone().set_requires_grad(true), b2 = second.to(Device::cuda(0)).set_requires_grad(true);
    const auto o = optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4).nesterov(true);
    optim::SGD plain({a1, a2}, o), capturable({b1, b2}, optim::SGDOptions(o).capturable(true));
    optim::CosineWarmupLR plain_schedule(plain, 2, 6), capturable_schedule(capturable, 2, 6);
    for (int step = 0; step < 6; ++step) {
      const Tensor g1 = randn({5, 7}), g2 = randn({33});
      plain.zero_grad();
      capturable.zero_grad();
      ((a1 * g1).sum() + (a2 * g2).sum()).backward();
      (b1 * g1).sum().backward();
      (b2 * g2.to(Device::cuda(0))).sum().backward();
      plain.step();
      capturable.step();
      plain_schedule.step();
      capturable_schedule.step();
      CHECK(bitwise_equal(a1.detach(), b1.detach()));
      CHECK(bitwise_equal(a2.detach(), b2.detach().to(Device::cpu())));  // the GPU's step is the CPU's, bit for bit
    }
  }
}

TEST_CASE("sgd_step reads the rate from an lr tensor when given one, in place of step.lr") {
  const Tensor p = full({5}, 1.0), g = full({5}, 2.0);
  ops::sgd_step(p, g, Tensor(), SgdStep{0.5, 0, 0, 0, false, false}, full({}, 0.25, kFloat64));
  CHECK(p.to_vector<float>() == std::vector<float>(5, 0.5f));  // 1 - 0.25 * 2, not 1 - 0.5 * 2
  const Tensor p64 = full({3}, 1.0, kFloat64), lr = full({1}, 0.125, kFloat64);
  ops::sgd_step(p64, full({3}, 4.0, kFloat64), Tensor(), SgdStep{1.0, 0, 0, 0, false, false}, lr);
  CHECK(p64.to_vector<double>() == std::vector<double>(3, 0.5));  // 1 - 0.125 * 4 in float64
  tests::expect_error([&] { ops::sgd_step(p, g, Tensor(), SgdStep{0.5, 0, 0, 0, false, false}, full({}, 0.25)); },
                      {"sgd step", "one-element float64 learning-rate tensor", "float32"});
  tests::expect_error(
      [&] { ops::sgd_step(p, g, Tensor(), SgdStep{0.5, 0, 0, 0, false, false}, full({2}, 0.25, kFloat64)); },
      {"sgd step", "one-element float64", "[2]"});
  CHECK(p.to_vector<float>() == std::vector<float>(5, 0.5f));  // the refused calls wrote nothing
}

TEST_CASE("sgd_step: bad operands are a facet::Error naming what was wrong") {
  const Tensor p = zeros({4, 3}), g = ones({4, 3}), buf = zeros({4, 3});
  SgdStep plain{0.1, 0, 0, 0, false, false}, momentum{0.1, 0, 0.9, 0, false, false};
  tests::expect_error([&] { ops::sgd_step(p, ones({3, 4}), Tensor(), plain); }, {"sgd step", "shaped like the parameter"});
  tests::expect_error([&] { ops::sgd_step(p, ones({4, 3}, kFloat64), Tensor(), plain); }, {"sgd step", "float64"});
  tests::expect_error([&] { ops::sgd_step(p, Tensor(), Tensor(), plain); }, {"sgd step", "gradient"});
  tests::expect_error([&] { ops::sgd_step(zeros({3, 4}).t(), g, Tensor(), plain); }, {"sgd step", "contiguous parameter"});
  tests::expect_error([&] { ops::sgd_step(zeros({4, 3}, kInt64), g, Tensor(), plain); }, {"sgd step", "int64"});
  tests::expect_error([&] { ops::sgd_step(p, g, Tensor(), momentum); }, {"sgd step", "momentum is on", "none"});
  tests::expect_error([&] { ops::sgd_step(p, g, buf, plain); }, {"sgd step", "momentum is 0"});
  tests::expect_error([&] { ops::sgd_step(p, g, zeros({12}), momentum); }, {"sgd step", "momentum buffer shaped"});
  tests::expect_error([&] { ops::sgd_step(p, g, zeros({3, 4}).t(), momentum); }, {"sgd step", "contiguous momentum buffer"});
  tests::expect_error([&] { ops::sgd_step(p, g, Tensor(), SgdStep{std::nan(""), 0, 0, 0, false, false}); },
                      {"sgd step", "finite lr", "lr nan"});
  tests::expect_error([&] { ops::sgd_step(p, g, Tensor(), SgdStep{0.1, 0, 0, 0, true, false}); },
                      {"sgd step", "momentum with nesterov", "nesterov"});
  CHECK(p.to_vector<float>() == std::vector<float>(12, 0.0f));  // nothing was written
}
