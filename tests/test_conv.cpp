// Convolution and pooling: values against direct float64 loops, gradchecks with stride, padding
// and dilation, and bad input.
#include <cmath>
#include <limits>
#include <sstream>

#include "core/ops_conv_columns.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

// Windows for the index-math tests: stride, padding, dilation, a 1x1 and a pooling window, and
// rectangular ones, each window reaching at least one input pixel.
const ops::Window kWindowCases[] = {{{3, 3}, {2, 2}, {1, 1}, {1, 1}}, {{3, 3}, {1, 1}, {2, 2}, {2, 2}},
                                    {{1, 1}, {1, 1}, {0, 0}, {1, 1}}, {{2, 2}, {2, 2}, {0, 0}, {1, 1}},
                                    {{5, 5}, {1, 1}, {2, 2}, {1, 1}}, {{3, 2}, {2, 1}, {0, 2}, {1, 3}},
                                    {{3, 2}, {3, 1}, {1, 2}, {1, 3}}};

// out[n, o, oh, ow] = b[o] + sum_{c, ki, kj} w[o, c, ki, kj] * x[n, c, oh*s - p + ki*d, ow*s - p + kj*d]
std::vector<double> reference_conv(const Tensor& x, const Tensor& w, const Tensor& b, Pair2 s, Pair2 p, Pair2 d,
                                   int64_t oh_n, int64_t ow_n) {
  const int64_t n = x.size(0), c_n = x.size(1), h = x.size(2), wd = x.size(3), o_n = w.size(0);
  const int64_t kh = w.size(2), kw = w.size(3);
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < o_n; ++o)
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          double acc = b.defined() ? b.at<double>({o}) : 0.0;
          for (int64_t c = 0; c < c_n; ++c)
            for (int64_t ki = 0; ki < kh; ++ki)
              for (int64_t kj = 0; kj < kw; ++kj) {
                const int64_t ih = oh * s[0] - p[0] + ki * d[0], iw = ow * s[1] - p[1] + kj * d[1];
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                acc += w.at<double>({o, c, ki, kj}) * x.at<double>({i, c, ih, iw});
              }
          out.push_back(acc);
        }
  return out;
}

}  // namespace

TEST_CASE("conv2d matches a direct loop for stride, padding, dilation and rectangular kernels") {
  struct Case {
    Shape x, w;
    Pair2 s, p, d;
  };
  const Case cases[] = {{{2, 3, 7, 7}, {4, 3, 3, 3}, {1, 1}, {0, 0}, {1, 1}},
                        {{1, 2, 8, 9}, {3, 2, 3, 3}, {2, 2}, {1, 1}, {1, 1}},
                        {{2, 1, 9, 7}, {2, 1, 3, 2}, {1, 2}, {2, 1}, {2, 1}},
                        {{1, 3, 5, 5}, {1, 3, 5, 5}, {1, 1}, {2, 2}, {1, 1}},
                        // stride 1 with the output as wide as the input (cpu/conv.cpp's shifted-plane
                        // im2col): fewer output lines than input lines, and a vertical dilation
                        {{2, 3, 7, 8}, {4, 3, 3, 3}, {1, 1}, {0, 1}, {1, 1}},
                        {{2, 3, 7, 9}, {4, 3, 3, 3}, {1, 1}, {2, 1}, {2, 1}}};
  for (const Case& c : cases)
    for (DType dtype : {kFloat32, kFloat64}) {
      INFO(shape_str(c.x) << " " << shape_str(c.w));
      Generator gen(11);
      const Tensor x = randn(c.x, dtype, &gen), w = randn(c.w, dtype, &gen), b = randn({c.w[0]}, dtype, &gen);
      const Tensor y = conv2d(x, w, b, c.s, c.p, c.d);
      const int64_t oh = (c.x[2] + 2 * c.p[0] - c.d[0] * (c.w[2] - 1) - 1) / c.s[0] + 1;
      const int64_t ow = (c.x[3] + 2 * c.p[1] - c.d[1] * (c.w[3] - 1) - 1) / c.s[1] + 1;
      CHECK(y.shape() == Shape{c.x[0], c.w[0], oh, ow});
      const auto ref = reference_conv(x.to(kFloat64), w.to(kFloat64), b.to(kFloat64), c.s, c.p, c.d, oh, ow);
      CHECK(tests::rel_error(y, ref) < (dtype == kFloat32 ? 1e-5 : 1e-12));
    }
}

TEST_CASE("gradcheck: conv2d with stride, padding and dilation, for input, weight and bias") {
  const Tensor x = tests::grad_input({2, 2, 6, 5}, 1), w = tests::grad_input({3, 2, 3, 2}, 2), b = tests::grad_input({3}, 3);
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], {2, 1}, {1, 1}, {1, 2}); },
                   {x, w, b});
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return conv2d(in[0], in[1]); }, {x, w});
}

TEST_CASE("im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)>") {
  Generator gen(4);
  ops::Window w{{3, 2}, {2, 1}, {1, 1}, {1, 2}};
  const Tensor x = randn({2, 3, 7, 6}, kFloat64, &gen);
  const Tensor cols = ops::im2col(x, w);
  const Tensor c = randn(cols.shape(), kFloat64, &gen);
  const double lhs = ops::sum(ops::binary(BinaryOp::Mul, cols, c)).item<double>();
  const double rhs = ops::sum(ops::binary(BinaryOp::Mul, x, ops::col2im(c, x.shape(), w))).item<double>();
  CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
}

TEST_CASE("max_pool2d: values, indices, padding never wins, gradcheck") {
  const Tensor x = tensor(std::vector<double>{1, 5, 2, 0, 3, 4, 9, 8, -1, -2, 7, 6, 0, 0, 1, 2}, {1, 1, 4, 4});
  CHECK(max_pool2d(x, {2, 2}).to_vector<double>() == std::vector<double>{5, 9, 0, 7});
  const auto [values, indices] = ops::max_pool2d(x, ops::Window{{2, 2}, {2, 2}});
  CHECK(indices.to_vector<int64_t>() == std::vector<int64_t>{1, 6, 12, 10});
  // Padding 1, kernel 3, stride 2 on all-negative input: the result is a real (negative) element.
  const Tensor neg = full({1, 1, 3, 3}, -4.0, kFloat64);
  for (double v : max_pool2d(neg, {3, 3}, {2, 2}, {1, 1}).to_vector<double>()) CHECK(v == -4.0);
  const Tensor g = tests::grad_input({2, 2, 5, 6}, 5);  // random: no ties
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return max_pool2d(in[0], {2, 3}, {2, 2}, {1, 1}); }, {g});
  // NaN wins its window, as in PyTorch.
  const Tensor with_nan = tensor(std::vector<double>{1, NAN, 3, 4}, {1, 1, 2, 2});
  CHECK(std::isnan(max_pool2d(with_nan, {2, 2}).item<double>()));
}

TEST_CASE("avg_pool2d: values (padding counts as zero) and gradcheck") {
  const Tensor x = tensor(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2});
  CHECK(avg_pool2d(x, {2, 2}).item<double>() == 2.5);
  CHECK(avg_pool2d(x, {2, 2}, {1, 1}, {1, 1}).to_vector<double>() ==
        std::vector<double>{0.25, 0.75, 0.5, 1.0, 2.5, 1.5, 0.75, 1.75, 1.0});
  FACET_CHECK_GRAD([](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {3, 2}, {1, 2}); },
                   {tests::grad_input({2, 2, 5, 4}, 6)});
}

TEST_CASE("bad convolution and pooling input") {
  const Tensor x = zeros({1, 3, 8, 8}), w = zeros({4, 3, 3, 3});
  tests::expect_error([&] { conv2d(zeros({1, 2, 8, 8}), w); }, {"conv2d", "[N, 3, H, W]", "float32[1, 2, 8, 8]"});
  tests::expect_error([&] { conv2d(zeros({3, 8, 8}), w); }, {"conv2d", "float32[3, 8, 8]"});
  tests::expect_error([&] { conv2d(x, w, zeros({3})); }, {"conv2d", "bias of shape [4]"});
  tests::expect_error([&] { conv2d(x, w, Tensor(), {0, 1}); }, {"conv2d", "positive kernel, stride"});
  tests::expect_error([&] { conv2d(zeros({1, 3, 2, 2}), w); }, {"conv2d", "at least as large as the (dilated) kernel"});
  tests::expect_error([&] { max_pool2d(x, {2, 2}, {2, 2}, {2, 2}); }, {"max_pool2d", "at most half the kernel"});
  tests::expect_error([] { max_pool2d(zeros({1, 1, 2, 2}), {2, 2}, {2, 2}, {1, 1}, {3, 3}); },
                      {"max_pool2d", "every window to cover at least one input element"});
  tests::expect_error([&] { avg_pool2d(x, {2, 2}, {1, 1}, {2, 2}); }, {"avg_pool2d", "at most half the kernel"});
  tests::expect_error([] { nn::Conv2d(nn::Conv2dOptions(0, 4, 3)); }, {"Conv2d", "positive channels"});
}

TEST_CASE("empty batches pass through convolution and pooling, forward and backward; outputs are contiguous") {
  Tensor x = zeros({0, 2, 6, 6}, kFloat64).set_requires_grad(true);
  const Tensor w = tests::grad_input({3, 2, 3, 3}, 20);
  const Tensor y = max_pool2d(conv2d(x, w), {2, 2});
  CHECK(y.shape() == Shape{0, 3, 2, 2});
  y.sum().backward();
  CHECK(x.grad().shape() == x.shape());
  nn::GlobalAvgPool2d gap;
  CHECK(gap(zeros({0, 4, 3, 3})).shape() == Shape{0, 4});
  CHECK(conv2d(ones({2, 2, 5, 5}), ones({3, 2, 3, 3})).is_contiguous());  // no bias: still NCHW-contiguous
  std::ostringstream os;
  os << *nn::MaxPool2d(nn::Size2(2, 3));
  CHECK(os.str() == "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0)");
}

TEST_CASE("im2col_source's halves (window_origin, window_tap, tap_source), which the GPU conv kernel uses, give the CPU's columns") {
  Generator gen(9);
  const Tensor x = randn({2, 3, 9, 8}, kFloat64, &gen);
  const std::vector<double> xv = x.to_vector<double>();
  for (const ops::Window& w : kWindowCases) {
    INFO("kernel " << w.kernel[0] << "x" << w.kernel[1] << " stride " << w.stride[0] << "," << w.stride[1]);
    const WindowGeometry g = ops::window_geometry("test", x.shape(), w);
    const std::vector<double> cols = ops::im2col(x, w).to_vector<double>();  // [R, N, Q]
    int64_t wrong = 0, padding = 0;
    for (int64_t r = 0; r < g.rows(); ++r)
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t q = 0; q < g.cols(); ++q) {
          const int64_t at = tap_source(g, window_origin(g, q), window_tap(g, r));
          wrong += at != im2col_source(g, r, q);
          padding += at < 0;
          const double want = at < 0 ? 0.0 : xv[n * g.image_size() + at];
          wrong += cols[(r * 2 + n) * g.cols() + q] != want;
        }
    CHECK(wrong == 0);
    CHECK((padding > 0) == (w.padding[0] + w.padding[1] > 0));  // the padding branch is exercised
  }
}

TEST_CASE("the window math with FastDividers (the GPU's im2col, col2im and pooling) equals it with '/' and '%'") {
  Generator gen(11);
  const Tensor x = randn({2, 3, 9, 8}, kFloat64, &gen);
  const std::vector<double> xv = x.to_vector<double>();
  for (const ops::Window& w : kWindowCases) {
    INFO("kernel " << w.kernel[0] << "x" << w.kernel[1] << " stride " << w.stride[0] << "," << w.stride[1]);
    const WindowGeometry g = ops::window_geometry("test", x.shape(), w);
    REQUIRE(window_fits_fast_divide(g, 2));
    const WindowDividers<FastDivider> fast = fast_dividers(g);
    const WindowDividers<WideDivider> wide = wide_dividers(g);
    int64_t wrong = 0, checked = 0;
    for (int64_t r = 0; r < g.rows(); ++r)
      for (int64_t q = 0; q < g.cols(); ++q, ++checked) {
        const WindowTap a = window_tap(g, fast, r), b = window_tap(g, wide, r);
        wrong += a.c != b.c || a.dh != b.dh || a.dw != b.dw;
        wrong += im2col_source(g, fast, r, q) != im2col_source(g, wide, r, q);
      }
    // col2im over random columns [R, 2, Q]: the same sums, in the same order, to the last bit.
    const std::vector<double> cols = randn({g.rows(), 2, g.cols()}, kFloat64, &gen).to_vector<double>();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t p = 0; p < g.image_size(); ++p, ++checked) {
        const double* image_cols = cols.data() + b * g.cols();
        wrong += col2im_gather(g, fast, image_cols, 2 * g.cols(), p) != col2im_gather(g, wide, image_cols, 2 * g.cols(), p);
      }
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t q = 0; q < g.cols(); ++q, ++checked) {
        int64_t arg_fast = -2, arg_wide = -3;
        const double m_fast = window_max(g, fast, xv.data(), c, q, arg_fast);
        const double m_wide = window_max(g, wide, xv.data(), c, q, arg_wide);
        wrong += m_fast != m_wide || arg_fast != arg_wide || arg_fast < 0 || xv[arg_fast] != m_fast;
      }
    CHECK(checked > 200);
    CHECK(wrong == 0);
  }
  // Max pooling's gathered backward (the GPU's) against the CPU's scatter, bit for bit: the
  // indices of a max_pool2d, random output gradients; overlapping windows (a pixel that wins up
  // to nine windows), dilation, padding up to half the kernel.
  const Tensor input = randn({2, 3, 9, 8}, kFloat64, &gen);
  const ops::Window pools[] = {{{3, 3}, {2, 2}, {1, 1}, {1, 1}}, {{3, 3}, {1, 1}, {1, 1}, {1, 1}},
                               {{2, 2}, {2, 2}, {0, 0}, {1, 1}}, {{5, 5}, {1, 1}, {2, 2}, {1, 1}},
                               {{3, 2}, {2, 1}, {1, 1}, {2, 1}}};
  for (const ops::Window& w : pools) {
    INFO("pooling kernel " << w.kernel[0] << "x" << w.kernel[1] << " stride " << w.stride[0] << "," << w.stride[1]);
    const WindowGeometry g = ops::window_geometry("test", input.shape(), w);
    const auto [values, indices] = ops::max_pool2d(input, w);
    const Tensor grad = randn(values.shape(), kFloat64, &gen);
    const std::vector<double> want = ops::max_pool2d_backward(grad, indices, input.shape(), w).to_vector<double>();
    const std::vector<double> gv = grad.to_vector<double>();
    const std::vector<int64_t> iv = indices.to_vector<int64_t>();
    const int64_t outputs = g.channels * g.cols();
    int64_t wrong = 0, hit = 0;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t p = 0; p < g.image_size(); ++p) {
        const double fast = max_pool_gather(g, fast_dividers(g), gv.data() + b * outputs, iv.data() + b * outputs, p);
        const double wide = max_pool_gather(g, wide_dividers(g), gv.data() + b * outputs, iv.data() + b * outputs, p);
        const double expected = want[b * g.image_size() + p];
        wrong += fast != wide || fast != expected;  // the scatter's order of additions: the same bits
        hit += expected != 0.0;
      }
    CHECK(wrong == 0);
    CHECK(hit > 0);
  }
  // FastDivider's range: indices of 2^31 and more, or a size of 0, take the '/' path.
  const WindowGeometry g = ops::window_geometry("test", Shape{1, 64, 56, 56}, ops::Window{{3, 3}, {1, 1}, {1, 1}, {1, 1}});
  CHECK(window_fits_fast_divide(g, 256));  // 256 * 576 * 3136 = 462 422 016 column elements
  CHECK_FALSE(window_fits_fast_divide(g, 1200));  // 2 167 603 200 >= 2^31
  WindowGeometry empty = g;
  empty.width = 0;
  CHECK_FALSE(window_fits_fast_divide(empty, 1));
}

TEST_CASE("the GPU convolution algorithm switch: names, cudnn only in a USE_CUDNN=1 build; the CPU ignores it") {
  using cuda::ConvAlgorithm;
  for (ConvAlgorithm a : {ConvAlgorithm::Im2colGemm, ConvAlgorithm::ImplicitGemm, ConvAlgorithm::Cudnn}) {
    ConvAlgorithm parsed = ConvAlgorithm::Im2colGemm;
    CHECK(cuda::parse_conv_algorithm(cuda::conv_algorithm_name(a), parsed));
    CHECK(parsed == a);
  }
  ConvAlgorithm untouched = ConvAlgorithm::ImplicitGemm;
  CHECK_FALSE(cuda::parse_conv_algorithm("cuDNN", untouched));
  CHECK_FALSE(cuda::parse_conv_algorithm("", untouched));
  CHECK(untouched == ConvAlgorithm::ImplicitGemm);

  const ConvAlgorithm previous = cuda::conv_algorithm();
  Generator gen(12);
  const Tensor x = randn({2, 3, 7, 6}, kFloat32, &gen), w = randn({4, 3, 3, 3}, kFloat32, &gen);
  cuda::set_conv_algorithm(ConvAlgorithm::Im2colGemm);
  const std::vector<float> ref = conv2d(x, w, Tensor(), {2, 1}, {1, 1}).to_vector<float>();
  cuda::set_conv_algorithm(ConvAlgorithm::ImplicitGemm);
  CHECK(cuda::conv_algorithm() == ConvAlgorithm::ImplicitGemm);
  CHECK(conv2d(x, w, Tensor(), {2, 1}, {1, 1}).to_vector<float>() == ref);  // CPU tensors: im2col + GEMM still
  if (cuda::built_with_cudnn()) {
    cuda::set_conv_algorithm(ConvAlgorithm::Cudnn);
    CHECK(cuda::conv_algorithm() == ConvAlgorithm::Cudnn);
  } else {
    tests::expect_error([] { cuda::set_conv_algorithm(ConvAlgorithm::Cudnn); }, {"set_conv_algorithm", "USE_CUDNN=1"});
    CHECK(cuda::conv_algorithm() == ConvAlgorithm::ImplicitGemm);  // a refused choice changes nothing
  }
  cuda::set_conv_algorithm(previous);
}

TEST_CASE("conv2d backward: gradients as the direct adjoints, and a bad output gradient") {
  Generator gen(13);
  const ops::ConvParams p{{2, 1}, {1, 0}, {1, 2}};
  const Tensor x = randn({3, 2, 7, 8}, kFloat64, &gen), w = randn({4, 2, 3, 2}, kFloat64, &gen);
  const Tensor y = ops::conv2d(x, w, Tensor(), p);
  const Tensor g = randn(y.shape(), kFloat64, &gen);
  const auto grads = ops::conv2d_backward(g, x, w, p, {true, true, true});
  // <conv(x, w), g> is linear in x and in w: its derivatives are the gradients.
  const auto dot = [](const Tensor& a, const Tensor& b) { return ops::sum(ops::binary(BinaryOp::Mul, a, b)).item<double>(); };
  const Tensor dx = randn(x.shape(), kFloat64, &gen), dw = randn(w.shape(), kFloat64, &gen);
  CHECK(dot(ops::conv2d(dx, w, Tensor(), p), g) == doctest::Approx(dot(dx, grads[0])).epsilon(1e-12));
  CHECK(dot(ops::conv2d(x, dw, Tensor(), p), g) == doctest::Approx(dot(dw, grads[1])).epsilon(1e-12));
  CHECK(grads[2].to_vector<double>() == ops::sum_to(g, {1, 4, 1, 1}).to_vector<double>());
  const auto only_bias = ops::conv2d_backward(g, x, w, p, {false, false, true});
  CHECK(!only_bias[0].defined());
  CHECK(!only_bias[1].defined());
  tests::expect_error([&] { ops::conv2d_backward(ops::slice(g, 3, 0, 1), x, w, p, {true, true, false}); },
                      {"conv2d backward", "output gradient of shape [3, 4, 4, 6]"});
  tests::expect_error([&] { ops::conv2d_backward(ops::cast(g, kFloat32), x, w, p, {true, true, false}); },
                      {"conv2d backward"});
}

TEST_CASE("conv2d on the CPU, image by image: float32 forward and backward match float64 for 1x1, batch 1, odd batches and ragged tiles") {
  // Sizes that land on every edge of cpu/conv.cpp and cpu/gemm_f32.cpp: the 1x1 path without
  // columns, batches that do not split evenly over the threads, out channels off the 8-row tile,
  // output planes off the 32-column tile, and k that is not a multiple of 16; the "same" windows
  // (3x3 pad 1, 5x5 pad 2) take the products that read the image or the output gradient directly.
  struct Case {
    Shape x, w;
    Pair2 s, p;
  };
  const Case cases[] = {{{1, 5, 6, 7}, {3, 5, 1, 1}, {1, 1}, {0, 0}},    {{3, 5, 6, 7}, {9, 5, 1, 1}, {1, 1}, {0, 0}},
                        {{2, 4, 7, 7}, {6, 4, 1, 1}, {2, 2}, {0, 0}},    {{5, 3, 11, 13}, {13, 3, 3, 3}, {1, 1}, {1, 1}},
                        {{2, 40, 5, 5}, {17, 40, 3, 3}, {1, 1}, {1, 1}}, {{7, 2, 4, 4}, {33, 2, 2, 2}, {1, 1}, {0, 0}},
                        {{1, 1, 28, 28}, {32, 1, 3, 3}, {1, 1}, {1, 1}},
                        // a 5x5 "same" window: 25 taps through the shifted-column products
                        {{3, 5, 9, 8}, {3, 5, 5, 5}, {1, 1}, {2, 2}},
                        // stride-2 windows halving an even image, read from its four phases: 3x3
                        // pad 1 (few and many columns: the 4 x 4 and the packed weight gradient),
                        // 1x1, 5x5 pad 2, a 2x2 window, planes off the 16-pixel chunks, and lines of
                        // more than 32 floats (split into phases 32 at a time)
                        {{2, 5, 8, 6}, {9, 5, 3, 3}, {2, 2}, {1, 1}},    {{3, 40, 14, 14}, {35, 40, 3, 3}, {2, 2}, {1, 1}},
                        {{2, 33, 6, 10}, {5, 33, 1, 1}, {2, 2}, {0, 0}}, {{2, 3, 10, 8}, {4, 3, 5, 5}, {2, 2}, {2, 2}},
                        {{3, 4, 6, 6}, {8, 4, 2, 2}, {2, 2}, {0, 0}},    {{2, 6, 34, 18}, {7, 6, 3, 3}, {2, 2}, {1, 1}},
                        {{1, 3, 6, 40}, {4, 3, 3, 3}, {2, 2}, {1, 1}}};
  for (const Case& c : cases) {
    INFO(shape_str(c.x) << " " << shape_str(c.w));
    Generator gen(17);
    const Tensor x = randn(c.x, kFloat64, &gen), w = randn(c.w, kFloat64, &gen), b = randn({c.w[0]}, kFloat64, &gen);
    const ops::ConvParams p{{c.s[0], c.s[1]}, {c.p[0], c.p[1]}, {1, 1}};
    const Tensor y = ops::conv2d(x, w, b, p);
    const int64_t oh = y.size(2), ow = y.size(3);
    CHECK(tests::rel_error(y, reference_conv(x, w, b, c.s, c.p, {1, 1}, oh, ow)) < 1e-12);
    const Tensor g = randn(y.shape(), kFloat64, &gen);
    const auto grads = ops::conv2d_backward(g, x, w, p, {true, true, true});
    const auto f = [](const Tensor& t) { return ops::cast(t, kFloat32); };
    const Tensor y32 = ops::conv2d(f(x), f(w), f(b), p);
    const auto grads32 = ops::conv2d_backward(f(g), f(x), f(w), p, {true, true, true});
    CHECK(tests::rel_error(y32, y.to_vector<double>()) < 1e-5);
    for (int i = 0; i < 3; ++i) CHECK(tests::rel_error(grads32[i], grads[i].to_vector<double>()) < 1e-5);
    // The adjoint identities hold for the 1x1 path too (the float64 gradients above are the reference).
    const auto dot = [](const Tensor& a, const Tensor& b) { return ops::sum(ops::binary(BinaryOp::Mul, a, b)).item<double>(); };
    const Tensor dx = randn(x.shape(), kFloat64, &gen), dw = randn(w.shape(), kFloat64, &gen);
    CHECK(dot(ops::conv2d(dx, w, Tensor(), p), g) == doctest::Approx(dot(dx, grads[0])).epsilon(1e-12));
    CHECK(dot(ops::conv2d(x, dw, Tensor(), p), g) == doctest::Approx(dot(dw, grads[1])).epsilon(1e-12));
  }
}

TEST_CASE("the GPU's column convolution, a chunk of images at a time, matches the CPU's convolution forward and backward") {
  // core/ops_conv_columns.cpp runs on either device: here on the CPU against cpu/conv.cpp, with
  // chunks of 1, 2 and 3 images (the last ragged), the whole batch, and an empty batch.
  Generator gen(23);
  const ops::ConvParams p{{2, 1}, {1, 2}, {1, 2}};
  const ops::Window w{{3, 2}, {2, 1}, {1, 2}, {1, 2}};
  const Tensor x = randn({5, 3, 9, 8}, kFloat64, &gen), weight = randn({4, 3, 3, 2}, kFloat64, &gen);
  const Tensor bias = randn({4}, kFloat64, &gen);
  const WindowGeometry g = ops::window_geometry("test", x.shape(), w);
  const Tensor want = ops::conv2d(x, weight, bias, p);
  const Tensor grad = randn(want.shape(), kFloat64, &gen);
  const auto want_grads = ops::conv2d_backward(grad, x, weight, p, {true, true, false});
  for (int64_t chunk : {1, 2, 3, 5, 0}) {
    INFO("images per chunk " << chunk);
    CHECK(ops::conv_column_chunk(g, 5, kFloat64, chunk) == (chunk == 0 ? 5 : chunk));
    const Tensor y = ops::conv2d_by_columns(x, weight, bias, g, w, chunk);
    CHECK(y.shape() == want.shape());
    CHECK(y.is_contiguous());
    CHECK(tests::rel_error(y, want.to_vector<double>()) < 1e-13);
    CHECK(tests::rel_error(ops::conv2d_by_columns(x, weight, Tensor(), g, w, chunk),
                           ops::conv2d(x, weight, Tensor(), p).to_vector<double>()) < 1e-13);
    const auto grads = ops::conv2d_backward_by_columns(grad, x, weight, g, w, {true, true}, chunk);
    REQUIRE(grads[0].defined());
    REQUIRE(grads[1].defined());
    CHECK(grads[0].shape() == x.shape());
    CHECK(grads[1].shape() == weight.shape());
    CHECK(tests::rel_error(grads[0], want_grads[0].to_vector<double>()) < 1e-13);
    CHECK(tests::rel_error(grads[1], want_grads[1].to_vector<double>()) < 1e-13);
    const auto only_weight = ops::conv2d_backward_by_columns(grad, x, weight, g, w, {false, true}, chunk);
    CHECK(!only_weight[0].defined());
    CHECK(tests::rel_error(only_weight[1], want_grads[1].to_vector<double>()) < 1e-13);
  }
  // The default chunk keeps a chunk's columns under 64 MiB: the cnn's 32 -> 64 layer at batch 256
  // (288 x 784 floats, 903 KB an image) takes 74 images at a time, not all 256 (231 MB).
  const WindowGeometry cnn = ops::window_geometry("test", Shape{256, 32, 28, 28}, ops::Window{{3, 3}, {1, 1}, {1, 1}, {1, 1}});
  CHECK(ops::conv_column_chunk(cnn, 256, kFloat32) == 74);
  CHECK(ops::conv_column_chunk(cnn, 256, kFloat64) == 37);
  CHECK(ops::conv_column_chunk(cnn, 16, kFloat32) == 16);
  CHECK(ops::conv_column_chunk(cnn, 256, kFloat32, 1000) == 256);
  // An empty batch: an empty output and gradients of the right shapes (zeros for the weight).
  const Tensor none = randn({0, 3, 9, 8}, kFloat64, &gen);
  const WindowGeometry g0 = ops::window_geometry("test", none.shape(), w);
  const Tensor y0 = ops::conv2d_by_columns(none, weight, bias, g0, w);
  CHECK(y0.shape() == Shape{0, 4, want.size(2), want.size(3)});
  const auto grads0 = ops::conv2d_backward_by_columns(zeros(y0.shape(), kFloat64), none, weight, g0, w, {true, true});
  CHECK(grads0[0].shape() == none.shape());
  CHECK(grads0[1].shape() == weight.shape());
  CHECK(ops::max(ops::unary(UnaryOp::Abs, grads0[1])).item<double>() == 0.0);
}

TEST_CASE("conv2d on the CPU gives the same bits on repeated runs (fixed thread count)") {
  Generator gen(19);
  const Tensor x = randn({9, 6, 10, 10}, kFloat32, &gen), w = randn({10, 6, 3, 3}, kFloat32, &gen);
  const ops::ConvParams p{{1, 1}, {1, 1}, {1, 1}};
  const Tensor g = randn({9, 10, 10, 10}, kFloat32, &gen);
  const auto a = ops::conv2d_backward(g, x, w, p, {true, true, false});
  const auto b = ops::conv2d_backward(g, x, w, p, {true, true, false});
  CHECK(a[0].to_vector<float>() == b[0].to_vector<float>());
  CHECK(a[1].to_vector<float>() == b[1].to_vector<float>());
  CHECK(ops::conv2d(x, w, Tensor(), p).to_vector<float>() == ops::conv2d(x, w, Tensor(), p).to_vector<float>());
}
