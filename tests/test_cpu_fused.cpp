// The CPU's fused kernels for a CNN's training step: PReLU's one-pass forward and backward and
// max pooling's dedicated 2x2 loop and scatter backward, against the composed ops they replace
// (float64 references), with gradchecks.
#include <cmath>

#include "layers/prelu.h"
#include "tests/helpers.h"

using namespace facet;

TEST_CASE("prelu: fused values and gradients match the composed where(x > 0, x, a x), per channel and shared") {
  Generator gen(23);
  for (int64_t slopes : {int64_t(3), int64_t(1)}) {
    INFO("slopes " << slopes);
    Tensor x = randn({4, 3, 5, 7}, kFloat64, &gen);
    // exact zeros: the input's gradient there is a * g, the slope's g * 0, as PyTorch
    x = ops::where(ops::binary(BinaryOp::Lt, ops::unary(UnaryOp::Abs, x), 0.2), zeros_like(x), x);
    const Tensor a = randn({slopes}, kFloat64, &gen) * 0.3;
    const Tensor xa = x.clone().set_requires_grad(true), aa = a.clone().set_requires_grad(true);
    const Tensor xb = x.clone().set_requires_grad(true), ab = a.clone().set_requires_grad(true);
    const Tensor g = randn(x.shape(), kFloat64, &gen);
    const Tensor fused = nn::prelu(xa, aa);
    const Tensor slope = slopes == 1 ? ab.reshape({}) : ab.reshape({1, slopes, 1, 1});
    const Tensor composed = where(gt(xb, zeros({}, kFloat64)), xb, slope * xb);
    CHECK(tests::rel_error(fused, composed.to_vector<double>()) < 1e-15);
    (fused * g).sum().backward();
    (composed * g).sum().backward();
    CHECK(tests::rel_error(xa.grad(), xb.grad().to_vector<double>()) < 1e-15);
    CHECK(tests::rel_error(aa.grad(), ab.grad().to_vector<double>()) < 1e-12);
    // float32 against float64
    const Tensor y32 = ops::prelu(ops::cast(x, kFloat32), ops::cast(a, kFloat32));
    CHECK(tests::rel_error(y32, fused.to_vector<double>()) < 1e-6);
    const auto [gx32, ga32] = ops::prelu_backward(ops::cast(g, kFloat32), ops::cast(x, kFloat32), ops::cast(a, kFloat32), true);
    CHECK(tests::rel_error(gx32, xa.grad().to_vector<double>()) < 1e-6);
    CHECK(tests::rel_error(ga32, aa.grad().to_vector<double>()) < 1e-5);
    const auto only_slope = ops::prelu_backward(g, x, a, false);
    CHECK(!only_slope.first.defined());
  }
  const Tensor gx = tests::grad_input({2, 3, 4, 3}, 29);
  const Tensor ga = tests::grad_input({3}, 31);
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return nn::prelu(in[0], in[1]); }, {gx, ga});
  tests::expect_error([] { ops::prelu(zeros({2, 4, 3}), zeros({3})); }, {"prelu", "3 channels in dim 1"});
}

TEST_CASE("max_pool2d on the CPU: the 2x2 loop and the general loop agree; the scatter backward matches scatter_add") {
  Generator gen(37);
  const Tensor x = randn({3, 4, 9, 10}, kFloat64, &gen);
  // The 2x2 stride-2 window (its own loop; odd sizes leave a row and a column out) against a
  // direct loop.
  const auto [out, idx] = ops::max_pool2d(x, ops::Window{{2, 2}, {2, 2}});
  CHECK(out.shape() == Shape{3, 4, 4, 5});
  std::vector<double> ref;
  std::vector<int64_t> ref_idx;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t oh = 0; oh < 4; ++oh)
        for (int64_t ow = 0; ow < 5; ++ow) {
          double best = -INFINITY;
          int64_t arg = -1;
          for (int64_t i = 0; i < 2; ++i)
            for (int64_t j = 0; j < 2; ++j) {
              const double v = x.at<double>({n, c, 2 * oh + i, 2 * ow + j});
              if (v > best) best = v, arg = (c * 9 + 2 * oh + i) * 10 + 2 * ow + j;
            }
          ref.push_back(best);
          ref_idx.push_back(arg);
        }
  CHECK(out.to_vector<double>() == ref);
  CHECK(idx.to_vector<int64_t>() == ref_idx);
  // Overlapping windows (kernel 3, stride 1, padding 1): one input gets several gradients.
  for (const ops::Window& w : {ops::Window{{3, 3}, {1, 1}, {1, 1}}, ops::Window{{2, 2}, {2, 2}}}) {
    const auto [o, i] = ops::max_pool2d(x, w);
    const Tensor g = randn(o.shape(), kFloat64, &gen);
    const Tensor got = ops::max_pool2d_backward(g, i, x.shape(), w);
    const int64_t outputs = o.numel() / 3;
    const Tensor want = ops::scatter_add(zeros({3, 4 * 9 * 10}, kFloat64), 1, ops::reshape(i, {3, outputs}),
                                         ops::reshape(g, {3, outputs}));
    CHECK(tests::rel_error(got, want.to_vector<double>()) < 1e-15);
  }
  const ops::Window w2{{2, 2}, {2, 2}};
  tests::expect_error([&] { ops::max_pool2d_backward(zeros({3, 4, 4, 5}, kFloat64), ops::cast(idx, kFloat64), x.shape(), w2); },
                      {"max_pool2d backward", "int64 indices [3, 4, 4, 5]"});
  // An index outside its channel's plane (9 x 10 = 90 elements a plane) would write elsewhere.
  const Tensor g2 = zeros({3, 4, 4, 5}, kFloat64);
  for (int64_t bad : {int64_t{-1}, int64_t{90}, int64_t{4 * 90}}) {  // output 0 is channel 0's
    Tensor wrong = ops::clone(idx);
    wrong.data<int64_t>()[0] = bad;
    tests::expect_error([&] { ops::max_pool2d_backward(g2, wrong, x.shape(), w2); },
                        {"max_pool2d backward", "inside its channel's plane", "index " + std::to_string(bad) + " at output 0"});
  }
  // A gradient of another window's output shape (3x3, stride 1, padding 1: [3, 4, 9, 10]).
  tests::expect_error([&] { ops::max_pool2d_backward(zeros({3, 4, 9, 10}, kFloat64), idx, x.shape(), w2); },
                      {"max_pool2d backward", "[3, 4, 4, 5]", "gradient float64[3, 4, 9, 10]"});
  const Tensor gi = tests::grad_input({2, 3, 6, 8}, 41);
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return max_pool2d(in[0], {2, 2}); }, {gi});
}
