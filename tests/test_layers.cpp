// PReLU, Dropout and BatchNorm: values, gradchecks (dropout with a fixed mask, batchnorm in
// training mode), running statistics against hand-derived numbers, eval mode.
#include <cmath>

#include "tests/helpers.h"

using namespace facet;

TEST_CASE("PReLU: per-channel slopes, values and gradcheck for input and slopes") {
  nn::PReLU act(2);
  CHECK(act->weight.to_vector<float>() == std::vector<float>{0.25f, 0.25f});
  const Tensor x = tensor(std::vector<float>{-4, 2, -8, 6}, {1, 2, 2, 1});
  CHECK(act(x).to_vector<float>() == std::vector<float>{-1, 2, -2, 6});
  const Tensor xg = tensor(std::vector<double>{-1.5, 0.7, -0.3, 1.1, -2.0, 0.4}, {1, 2, 3}).set_requires_grad(true);
  const Tensor slopes = tensor(std::vector<double>{0.1, 0.6}).set_requires_grad(true);
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return nn::prelu(in[0], in[1]); }, {xg, slopes});
  tests::expect_error([&] { nn::prelu(zeros({1, 3}), zeros({2})); }, {"prelu", "2 channels"});
  // At x = 0 the input's gradient is the slope times the incoming gradient, as PyTorch defines it.
  Tensor zero = zeros({1, 1}, kFloat64).set_requires_grad(true);
  nn::prelu(zero, tensor(std::vector<double>{0.3})).sum().backward();
  CHECK(zero.grad().item<double>() == doctest::Approx(0.3));
}

TEST_CASE("Dropout: the mask keeps about 1 - p, scales by 1/(1 - p), and is the identity in eval") {
  nn::Dropout drop(0.25);
  const Tensor x = ones({100000});
  const std::vector<float> y = drop(x).to_vector<float>();
  int64_t kept = 0;
  for (float v : y) {
    CHECK_UNARY(v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-6f);
    kept += v != 0.0f;
  }
  CHECK(static_cast<double>(kept) / y.size() == doctest::Approx(0.75).epsilon(0.02));
  drop->eval();
  CHECK(drop(x).storage() == x.storage());
  // gradcheck with a fixed mask: the same seed for every evaluation.
  FACET_CHECK_GRAD(
      [](const std::vector<Tensor>& in) {
        Generator gen(42);
        return nn::dropout(in[0], 0.5, true, &gen);
      },
      {tests::grad_input({3, 4}, 9)});
  tests::expect_error([] { nn::Dropout(1.5); }, {"Dropout", "[0, 1]"});
}

TEST_CASE("BatchNorm2d in training: normalized output, running statistics by hand") {
  nn::BatchNorm2d bn(2);
  // Channel 0 holds 1, 2, 3, 4; channel 1 holds 10 everywhere (N = 2, H = 1, W = 2).
  const Tensor x = tensor(std::vector<float>{1, 2, 10, 10, 3, 4, 10, 10}, {2, 2, 1, 2});
  const std::vector<float> y = bn(x).to_vector<float>();
  // Channel 0: mean 2.5, biased variance 1.25.
  const double s = std::sqrt(1.25 + 1e-5);
  const std::vector<double> expected = {-1.5 / s, -0.5 / s, 0, 0, 0.5 / s, 1.5 / s, 0, 0};
  CHECK(tests::rel_error(std::vector<double>(y.begin(), y.end()), expected) < 1e-6);
  // running = 0.9 * running + 0.1 * batch, the variance unbiased: 1.25 * 4 / 3.
  CHECK(bn->running_mean.at<float>({0}) == doctest::Approx(0.25));
  CHECK(bn->running_mean.at<float>({1}) == doctest::Approx(1.0));
  CHECK(bn->running_var.at<float>({0}) == doctest::Approx(0.9 + 0.1 * 1.25 * 4 / 3));
  CHECK(bn->running_var.at<float>({1}) == doctest::Approx(0.9));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 1);
  // Eval mode uses the running statistics.
  bn->eval();
  const double rv0 = 0.9 + 0.1 * 1.25 * 4 / 3;
  CHECK(bn(x).at<float>({0, 0, 0, 0}) == doctest::Approx((1 - 0.25) / std::sqrt(rv0 + 1e-5)));
  CHECK(bn(x).at<float>({0, 1, 0, 0}) == doctest::Approx((10 - 1.0) / std::sqrt(0.9 + 1e-5)));
}

TEST_CASE("gradcheck: BatchNorm1d and BatchNorm2d in training mode, affine parameters included") {
  nn::BatchNorm2d bn2(3);
  bn2->to(kFloat64);
  FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return bn2(in[0]); }, {tests::grad_input({2, 3, 2, 3}, 10)});
  nn::BatchNorm1d bn1(4);
  bn1->to(kFloat64);
  FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return bn1(in[0]); }, {tests::grad_input({5, 4}, 11)});
  // With respect to the affine parameters, through the same formula with them as inputs.
  FACET_CHECK_GRAD(
      [&](const std::vector<Tensor>& in) {
        nn::BatchNorm1d plain(nn::BatchNormOptions(4).affine(false));
        plain->to(kFloat64);
        return plain(in[0]) * in[1] + in[2];
      },
      {tests::grad_input({5, 4}, 12), tests::grad_input({4}, 13), tests::grad_input({4}, 14)});
}

TEST_CASE("bad BatchNorm input") {
  nn::BatchNorm2d bn(3);
  tests::expect_error([&] { bn(zeros({2, 4, 2, 2})); }, {"BatchNorm2d", "[N, 3, H, W]", "float32[2, 4, 2, 2]"});
  tests::expect_error([&] { bn(zeros({1, 3, 1, 1})); }, {"BatchNorm2d", "more than one value per channel"});
  nn::BatchNorm1d bn1(2);
  tests::expect_error([&] { bn1(zeros({2, 2, 2, 2})); }, {"BatchNorm1d", "[N, C, L]"});
}

TEST_CASE("BasicBlock: torchvision's names, shapes with and without a downsample, gradcheck") {
  nn::BasicBlock same(4, 4), down(4, 8, 2);
  CHECK(same->named_parameters().size() == 6);  // conv1, bn1 (2), conv2, bn2 (2)
  std::vector<std::string> names;
  for (const auto& [name, t] : down->named_parameters()) names.push_back(name);
  CHECK(names.back() == "downsample.1.bias");
  CHECK(names[names.size() - 3] == "downsample.0.weight");
  CHECK(same(zeros({2, 4, 6, 6})).shape() == Shape{2, 4, 6, 6});
  CHECK(down(randn({2, 4, 6, 6})).shape() == Shape{2, 8, 3, 3});
  down->to(kFloat64);
  FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return down(in[0]); }, {tests::grad_input({2, 4, 4, 4}, 15)});
}

TEST_CASE("BasicBlock: the fused bn1 + ReLU gives the composed block's output and gradients") {
  for (const int64_t out_channels : {4, 8}) {
    nn::BasicBlock block(4, out_channels, out_channels == 4 ? 1 : 2);
    const Tensor x0 = randn({3, 4, 6, 6});
    const Tensor weights = randn(block(x0).shape());
    const auto run = [&](bool composed) {
      block->zero_grad();
      const Tensor x = x0.clone().requires_grad_(true);
      const Tensor inner = block->bn2(block->conv2(relu(block->bn1(block->conv1(x)))));
      const Tensor y = composed ? relu(inner + (block->downsample.is_empty() ? x : block->downsample(x))) : block(x);
      (y * weights).sum().backward();
      std::vector<std::vector<float>> out = {y.detach().to_vector<float>(), x.grad().to_vector<float>()};
      for (const Tensor& p : block->parameters()) out.push_back(p.grad().to_vector<float>());
      return out;
    };
    const auto fused = run(false), composed = run(true);
    REQUIRE(fused.size() == composed.size());
    CHECK(fused[0] == composed[0]);  // -0.0 == 0.0: the values are the same
    for (size_t i = 1; i < fused.size(); ++i) {
      INFO("gradient " << i);
      CHECK(tests::rel_error(std::vector<double>(fused[i].begin(), fused[i].end()),
                             std::vector<double>(composed[i].begin(), composed[i].end())) <= 1e-6);
    }
  }
}

TEST_CASE("BasicBlock: the zero slope it keeps between forwards follows the block to another dtype") {
  nn::BasicBlock block(4, 4);
  const Tensor x = randn({2, 4, 5, 5});
  const Tensor once = block(x), twice = block(x);  // the second forward reuses the kept slope
  CHECK(once.to_vector<float>() == twice.to_vector<float>());
  block->to(kFloat64);
  const Tensor wide = block(x.to(kFloat64));  // a float32 slope kept from before would be refused
  CHECK(wide.dtype() == kFloat64);
  CHECK(tests::rel_error(wide.to_vector<double>(), once.to_vector<double>()) <= 1e-5);
}

TEST_CASE("batch_norm_update_running: torch's running statistics in one pass, bit for bit the composed update") {
  for (const DType dtype : {kFloat32, kFloat64}) {
    Generator gen(23);
    const Tensor rm0 = randn({7}, dtype, &gen), rv0 = rand({7}, dtype, &gen) + 0.5;
    const Tensor bm = randn({7}, dtype, &gen), bv = rand({7}, dtype, &gen);
    const double mom = 0.1;
    const int64_t count = 12;
    const Tensor rm = rm0.clone(), rv = rv0.clone(), n = full({}, 3.0, kInt64);
    ops::batch_norm_update_running(rm, rv, n, bm, bv, mom, count);
    // The published formula in float64.
    const std::vector<double> m0 = rm0.to_vector<double>(), v0 = rv0.to_vector<double>();
    const std::vector<double> m = bm.to_vector<double>(), v = bv.to_vector<double>();
    std::vector<double> want_mean, want_var;
    for (size_t i = 0; i < m0.size(); ++i) {
      want_mean.push_back((1 - mom) * m0[i] + mom * m[i]);
      want_var.push_back((1 - mom) * v0[i] + mom * v[i] * count / (count - 1));
    }
    const double tol = dtype == kFloat32 ? 1e-6 : 1e-15;
    CHECK(tests::rel_error(rm, want_mean) <= tol);
    CHECK(tests::rel_error(rv, want_var) <= tol);
    CHECK(n.item<int64_t>() == 4);
    // The same update composed of elementwise ops (as BatchNorm did it before), rounded the same way.
    const Tensor composed_mean = rm0 * (1 - mom) + bm * mom;
    const Tensor composed_var = rv0 * (1 - mom) + bv * (mom * count / (count - 1));
    CHECK(rm.to_vector<double>() == composed_mean.to_vector<double>());
    CHECK(rv.to_vector<double>() == composed_var.to_vector<double>());
  }
  // num_batches_tracked may be left out.
  const Tensor rm = zeros({2}), rv = ones({2});
  ops::batch_norm_update_running(rm, rv, Tensor(), full({2}, 1.0), full({2}, 1.0), 0.5, 2);
  CHECK(rm.to_vector<float>() == std::vector<float>{0.5f, 0.5f});
  CHECK(rv.to_vector<float>() == std::vector<float>{1.5f, 1.5f});
}

TEST_CASE("batch_norm_update_running: bad operands are a facet::Error naming what was wrong") {
  const Tensor rm = zeros({3}), rv = ones({3}), n = zeros({}, kInt64), bm = zeros({3}), bv = ones({3});
  const std::vector<float> before = rm.to_vector<float>();
  tests::expect_error([&] { ops::batch_norm_update_running(rm, rv, n, zeros({4}), bv, 0.1, 8); },
                      {"batch_norm running statistics", "batch mean [3] float32 on cpu", "[4]"});
  tests::expect_error([&] { ops::batch_norm_update_running(rm, rv, n, bm, ones({3}, kFloat64), 0.1, 8); },
                      {"batch variance [3] float32", "float64"});
  tests::expect_error([&] { ops::batch_norm_update_running(rm, rv, zeros({}), bm, bv, 0.1, 8); },
                      {"num_batches_tracked as one int64"});
  tests::expect_error([&] { ops::batch_norm_update_running(rm, rv, n, bm, bv, 0.1, 1); },
                      {"more than one value a channel", "count 1"});
  tests::expect_error([&] { ops::batch_norm_update_running(zeros({3}, kInt64), rv, n, bm, bv, 0.1, 8); },
                      {"batch_norm running statistics"});
  CHECK(rm.to_vector<float>() == before);  // nothing updated
  CHECK(n.item<int64_t>() == 0);
}

TEST_CASE("the fused training batchnorm: gradcheck for input, weight and bias, and the statistics it returns") {
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return batch_norm_train(in[0], in[1], in[2], 1e-5); },
                   {tests::grad_input({3, 2, 2, 2}, 16), tests::grad_input({2}, 17), tests::grad_input({2}, 18)});
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return batch_norm_train(in[0], Tensor(), Tensor(), 1e-3); },
                   {tests::grad_input({4, 3}, 19)});
  const Tensor x = tensor(std::vector<double>{1, 10, 3, 20, 5, 60}, {3, 2});
  Tensor mean, var;
  batch_norm_train(x, Tensor(), Tensor(), 1e-5, &mean, &var);
  CHECK(mean.to_vector<double>() == std::vector<double>{3, 30});
  CHECK(var.at<double>({0}) == doctest::Approx(8.0 / 3));
  CHECK(var.at<double>({1}) == doctest::Approx(1400.0 / 3));
  tests::expect_error([] { ops::batch_norm_apply(zeros({2, 3}), zeros({2}), ones({3}), Tensor(), Tensor(), 1e-5); },
                      {"batch_norm", "a mean of shape [3]", "float32[2]"});
  tests::expect_error([] { ops::batch_norm_apply(zeros({2, 3}), Tensor(), ones({3}), Tensor(), Tensor(), 1e-5); },
                      {"batch_norm", "a defined tensor for a mean"});
  // Per-channel tensors as views (expanded, strided) read what they show.
  const Tensor xs = tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor wide = tensor(std::vector<double>{2, 0, 2, 0, 2, 0});
  const Tensor by_view = batch_norm_train(xs, wide.slice(0, 0, 6, 2), ones({1}, kFloat64).expand({3}), 1e-5);
  const Tensor by_copy = batch_norm_train(xs, full({3}, 2.0, kFloat64), ones({3}, kFloat64), 1e-5);
  CHECK(by_view.to_vector<double>() == by_copy.to_vector<double>());
}

// Batchnorm + PReLU fused (one node, y and its gradient never stored) against the two in turn.
TEST_CASE("batchnorm + PReLU fused: values and all four gradients equal BatchNorm then PReLU; gradcheck") {
  for (int64_t slopes : {int64_t{3}, int64_t{1}}) {
    CAPTURE(slopes);
    Generator gen(21);
    const Tensor x0 = randn({4, 3, 5, 2}, kFloat64, &gen), w0 = randn({3}, kFloat64, &gen) + 1.0;
    const Tensor b0 = randn({3}, kFloat64, &gen), a0 = rand({slopes}, kFloat64, &gen), g = randn({4, 3, 5, 2}, kFloat64, &gen);
    std::vector<std::vector<Tensor>> grads;
    std::vector<Tensor> outs;
    for (bool fused : {true, false}) {
      std::vector<Tensor> in;
      for (const Tensor& t : {x0, w0, b0, a0}) in.push_back(t.detach().clone().set_requires_grad(true));
      Tensor mean, var;
      const Tensor y = fused ? batch_norm_prelu_train(in[0], in[1], in[2], in[3], 1e-5, &mean, &var)
                             : nn::prelu(batch_norm_train(in[0], in[1], in[2], 1e-5, &mean, &var), in[3]);
      (y * g).sum().backward();
      outs.push_back(y.detach());
      grads.push_back({in[0].grad(), in[1].grad(), in[2].grad(), in[3].grad()});
    }
    CHECK(tests::rel_error(outs[0], outs[1].to_vector<double>()) < 1e-14);
    for (int k = 0; k < 4; ++k) {
      CAPTURE(k);
      CHECK(tests::rel_error(grads[0][k], grads[1][k].to_vector<double>()) < 1e-12);
    }
    FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return batch_norm_prelu_train(in[0], in[1], in[2], in[3], 1e-5); },
                     {tests::grad_input({3, 3, 2, 2}, 22), tests::grad_input({3}, 23), tests::grad_input({3}, 24),
                      tests::grad_input({slopes}, 25, 0.05, 0.5)});
  }
  tests::expect_error([] { ops::batch_norm_prelu_apply(zeros({2, 3}), zeros({3}), ones({3}), Tensor(), Tensor(), zeros({2}), 1e-5); },
                      {"batch_norm_prelu", "a PReLU slope of shape [1] or [3]", "float32[2]"});
}

TEST_CASE("Sequential runs BatchNorm then PReLU fused: the same outputs, gradients and running statistics as one by one") {
  Generator gen(26);
  const Tensor x0 = randn({6, 4, 3, 3}, kFloat64, &gen), g = randn({6, 4, 3, 3}, kFloat64, &gen);
  nn::BatchNorm2d bn(4);
  nn::PReLU act(4, 0.3);
  nn::Sequential seq(nn::BatchNorm2d(4), nn::PReLU(4, 0.3));
  bn->to(kFloat64);
  act->to(kFloat64);
  seq->to(kFloat64);
  Tensor x1 = x0.clone().set_requires_grad(true), x2 = x0.clone().set_requires_grad(true);
  const Tensor y1 = act(bn(x1)), y2 = seq(x2);
  CHECK(y2.grad_fn_name() == "BatchNormPReluBackward");  // one fused node
  CHECK(y1.grad_fn_name() == "PReluBackward");
  (y1 * g).sum().backward();
  (y2 * g).sum().backward();
  CHECK(tests::rel_error(y2, y1.to_vector<double>()) < 1e-14);
  CHECK(tests::rel_error(x2.grad(), x1.grad().to_vector<double>()) < 1e-12);
  const auto fused = seq->named_parameters(), apart = [&] {
    nn::NamedTensors all = bn->named_parameters();
    for (const auto& p : act->named_parameters()) all.push_back(p);
    return all;
  }();
  REQUIRE(fused.size() == 3);
  for (size_t k = 0; k < 3; ++k) CHECK(tests::rel_error(fused[k].second.grad(), apart[k].second.grad().to_vector<double>()) < 1e-12);
  CHECK(tests::rel_error(seq->named_buffers()[0].second, bn->running_mean.to_vector<double>()) < 1e-15);
  CHECK(tests::rel_error(seq->named_buffers()[1].second, bn->running_var.to_vector<double>()) < 1e-15);
  // Evaluation, and a PReLU whose slopes do not fit the channels (not fused: PReLU's own error).
  seq->eval();
  bn->eval();
  CHECK(tests::rel_error(seq(x0), act(bn(x0)).to_vector<double>()) < 1e-14);
  nn::Sequential misfit(nn::BatchNorm2d(4), nn::PReLU(3));
  tests::expect_error([&] { misfit(zeros({2, 4, 2, 2})); }, {"prelu", "3"});
}
