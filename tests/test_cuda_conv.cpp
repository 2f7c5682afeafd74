// The GPU convolution algorithms against the CPU's im2col + GEMM: forward and the gradients of
// input, weight and bias on awkward shapes (stride 2, padding, dilation 2, 1x1, 5x5, rectangular
// kernels, odd sizes, batch 1 and 7, channel counts that leave partial tiles), every new GPU
// allocation poisoned (tests/main.cpp) so an unwritten element fails. Relative error < 1e-5 for
// float32 (TF32 off), 1e-12 for float64. The cudnn cases exist only in a USE_CUDNN=1 build. Runs
// only where a GPU is found; elsewhere the "cuda" suite is counted as skipped.
#include <vector>

#include "core/ops_conv_columns.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

Device gpu() { return Device::cuda(0); }

const cuda::ConvAlgorithm kAlgorithms[] = {cuda::ConvAlgorithm::Im2colGemm, cuda::ConvAlgorithm::ImplicitGemm,
#if FACET_WITH_CUDNN
                                           cuda::ConvAlgorithm::Cudnn
#endif
};

// Sets the algorithm for a scope and puts the previous one back.
class AlgorithmScope {
 public:
  explicit AlgorithmScope(cuda::ConvAlgorithm algorithm) : previous_(cuda::conv_algorithm()) {
    cuda::set_conv_algorithm(algorithm);
  }
  ~AlgorithmScope() { cuda::set_conv_algorithm(previous_); }
  AlgorithmScope(const AlgorithmScope&) = delete;
  AlgorithmScope& operator=(const AlgorithmScope&) = delete;

 private:
  cuda::ConvAlgorithm previous_;
};

struct Case {
  const char* name;
  Shape x, w;
  Pair2 stride, padding, dilation;
  bool bias;
  bool transposed_input;  // x given as a non-contiguous view
};

const Case kCases[] = {
    {"3x3 padding 1, batch 7", {7, 3, 9, 8}, {5, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}, true, false},
    {"stride 2, batch 1", {1, 4, 11, 10}, {6, 4, 3, 3}, {2, 2}, {1, 1}, {1, 1}, true, false},
    {"dilation 2", {7, 5, 13, 12}, {3, 5, 3, 3}, {1, 1}, {2, 2}, {2, 2}, true, false},
    {"1x1, C 33, O 65 (partial tiles), no bias", {7, 33, 5, 7}, {65, 33, 1, 1}, {1, 1}, {0, 0}, {1, 1}, false, false},
    {"5x5 padding 2, C 17", {2, 17, 14, 14}, {40, 17, 5, 5}, {1, 1}, {2, 2}, {1, 1}, true, false},
    {"rectangular kernel, mixed stride, padding, dilation", {3, 7, 10, 9}, {9, 7, 3, 2}, {2, 1}, {0, 2}, {1, 3}, true,
     false},
    {"odd sizes, one channel in and out", {7, 1, 29, 31}, {1, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, true, false},
    {"first layer of the Fashion-MNIST net, 5x5", {7, 1, 28, 28}, {32, 1, 5, 5}, {1, 1}, {2, 2}, {1, 1}, true, false},
    {"O 130 over three channel tiles, C 70", {2, 70, 6, 6}, {130, 70, 3, 3}, {1, 1}, {1, 1}, {1, 1}, true, false},
    {"stride 2 and dilation 2 on a transposed view", {7, 6, 12, 15}, {8, 6, 3, 3}, {2, 2}, {2, 1}, {2, 2}, true, true},
};

// y, dL/dx, dL/dweight, dL/dbias of L = sum(conv2d(x, w, b) * g) on `device`.
std::vector<Tensor> run(const Case& c, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& g,
                        Device device) {
  // detach(): fresh leaves, so x, w and b themselves never start requiring grad (to() on their own
  // device returns them as they are), which would make the next device's copies non-leaves.
  Tensor xd = x.to(device).detach().set_requires_grad(true), wd = w.to(device).detach().set_requires_grad(true);
  Tensor bd = c.bias ? b.to(device).detach().set_requires_grad(true) : Tensor();
  const Tensor input = c.transposed_input ? xd.transpose(2, 3) : xd;
  const Tensor y = conv2d(input, wd, bd, c.stride, c.padding, c.dilation);
  (y * g.to(device)).sum().backward();
  std::vector<Tensor> out{y.detach(), xd.grad(), wd.grad()};
  if (c.bias) out.push_back(bd.grad());
  return out;
}

void check_close(const Tensor& on_cpu, const Tensor& on_gpu, double tol) {
  REQUIRE(on_gpu.device().is_cuda());
  CHECK(on_gpu.shape() == on_cpu.shape());
  CHECK(tests::rel_error(on_gpu.to_vector<double>(), on_cpu.to_vector<double>()) < tol);
}

}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("[cuda] conv2d forward and backward match the CPU under every algorithm") {
    const char* what[] = {"output", "grad input", "grad weight", "grad bias"};
    for (cuda::ConvAlgorithm algorithm : kAlgorithms) {
      const AlgorithmScope scope(algorithm);
      for (const Case& c : kCases)
        for (DType dtype : {kFloat32, kFloat64}) {
          Generator gen(17);
          // A transposed view: x is made [N, C, W, H] and the convolution sees its transpose.
          const Shape xs = c.transposed_input ? Shape{c.x[0], c.x[1], c.x[3], c.x[2]} : c.x;
          const Tensor x = randn(xs, dtype, &gen), w = randn(c.w, dtype, &gen), b = randn({c.w[0]}, dtype, &gen);
          const Tensor probe = conv2d(c.transposed_input ? x.transpose(2, 3) : x, w, Tensor(), c.stride, c.padding,
                                      c.dilation);
          const Tensor g = randn(probe.shape(), dtype, &gen);  // the output gradient
          const std::vector<Tensor> on_cpu = run(c, x, w, b, g, Device::cpu());
          const std::vector<Tensor> on_gpu = run(c, x, w, b, g, gpu());
          REQUIRE(on_gpu.size() == on_cpu.size());
          for (size_t k = 0; k < on_cpu.size(); ++k) {
            INFO(cuda::conv_algorithm_name(algorithm) << ", " << c.name << ", " << dtype_name(dtype) << ": " << what[k]);
            check_close(on_cpu[k], on_gpu[k], dtype == kFloat32 ? 1e-5 : 1e-12);
          }
        }
    }
  }

  // Small enough for compute-sanitizer racecheck (tools/gpu_check.sh), which checks the kernel's
  // shared-memory barriers.
  TEST_CASE("[cuda] implicit_gemm kernel: both tile shapes, partial tiles in every dimension") {
    const AlgorithmScope scope(cuda::ConvAlgorithm::ImplicitGemm);
    Generator gen(29);
    for (int64_t out_channels : {4, 70}) {  // the 32 x 128 and the 64 x 64 tiles
      INFO("O " << out_channels);
      const Tensor x = randn({3, 5, 9, 7}, kFloat32, &gen), w = randn({out_channels, 5, 3, 2}, kFloat32, &gen);
      const Tensor b = randn({out_channels}, kFloat32, &gen);
      NoGradGuard no_grad;
      const Tensor ref = conv2d(x, w, b, {1, 2}, {1, 1}, {2, 1});  // R = 30, N*OH*OW = 3 * 7 * 4 = 84
      check_close(ref, conv2d(x.to(gpu()), w.to(gpu()), b.to(gpu()), {1, 2}, {1, 1}, {2, 1}), 1e-5);
    }
  }

  TEST_CASE("[cuda] the column convolution in chunks of images (core/ops_conv_columns.cpp) matches the CPU") {
    // A batch is cut into chunks only past 64 MiB of columns; here the chunk size is forced.
    Generator gen(31);
    const ops::ConvParams p{{2, 1}, {1, 1}, {1, 2}};
    const ops::Window w{{3, 3}, {2, 1}, {1, 1}, {1, 2}};
    for (DType dtype : {kFloat32, kFloat64}) {
      const Tensor x = randn({7, 3, 10, 9}, dtype, &gen), weight = randn({5, 3, 3, 3}, dtype, &gen);
      const Tensor bias = randn({5}, dtype, &gen);
      const WindowGeometry g = ops::window_geometry("test", x.shape(), w);
      const Tensor want = ops::conv2d(x, weight, bias, p);
      const Tensor grad = randn(want.shape(), dtype, &gen);
      const auto want_grads = ops::conv2d_backward(grad, x, weight, p, {true, true, false});
      const double tol = dtype == kFloat32 ? 1e-5 : 1e-12;
      for (int64_t chunk : {1, 3, 7}) {
        INFO(dtype_name(dtype) << ", images per chunk " << chunk);
        check_close(want, ops::conv2d_by_columns(x.to(gpu()), weight.to(gpu()), bias.to(gpu()), g, w, chunk), tol);
        const auto grads = ops::conv2d_backward_by_columns(grad.to(gpu()), x.to(gpu()), weight.to(gpu()), g, w,
                                                           {true, true}, chunk);
        check_close(want_grads[0], grads[0], tol);
        check_close(want_grads[1], grads[1], tol);
      }
    }
  }

  TEST_CASE("[cuda] conv2d without grad, and empty batches, under every algorithm") {
    Generator gen(23);
    const Tensor x = randn({7, 3, 10, 10}, kFloat32, &gen), w = randn({4, 3, 3, 3}, kFloat32, &gen);
    const Tensor b = randn({4}, kFloat32, &gen);
    const Tensor ref = conv2d(x, w, b, {1, 1}, {1, 1});
    for (cuda::ConvAlgorithm algorithm : kAlgorithms) {
      INFO(cuda::conv_algorithm_name(algorithm));
      const AlgorithmScope scope(algorithm);
      {
        NoGradGuard no_grad;
        check_close(ref, conv2d(x.to(gpu()), w.to(gpu()), b.to(gpu()), {1, 1}, {1, 1}), 1e-5);
      }
      Tensor xe = zeros({0, 3, 8, 8}).to(gpu()).set_requires_grad(true);
      Tensor we = w.to(gpu()).set_requires_grad(true);
      const Tensor y = conv2d(xe, we, Tensor(), {1, 1}, {1, 1});
      CHECK(y.shape() == Shape{0, 4, 8, 8});
      y.sum().backward();
      CHECK(we.grad().abs().sum().item<float>() == 0.0f);
    }
  }
}
