// GPU benchmark of conv2d at the Fashion-MNIST shapes of the examples (batch 256, padding keeps the
// size): forward, and forward + backward (input, weight and bias gradients), under each GPU
// algorithm — im2col + cuBLAS, facet's implicit-GEMM kernel, and cuDNN in a USE_CUDNN=1 build —
// with cuDNN as the yardstick: ratio = cuDNN's time / this algorithm's (above 1: faster than
// cuDNN). float32, TF32 off. CUDA events on facet's stream; the median of 7 rounds after a warm-up
// (which also lets cuDNN pick and cache its algorithms). GFLOP/s counts 2*N*O*C*KH*KW*OH*OW per
// pass, three passes for forward + backward. Every CUDA call is checked. On a machine without a
// GPU it says so and exits 0.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "bench/cuda_timing.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "facet.h"

using namespace facet;

namespace {

using bench::time_ms;

struct Timing {
  double fwd_ms = 0, both_ms = 0;
};

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line reaches the log even if a time limit stops the run
  if (cuda_device_count() == 0) {
    std::printf("cuda_conv: no GPU found, nothing to measure\n");
    return 0;
  }
  cudaDeviceProp prop;
  FACET_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  cuda::set_allow_tf32(false);
  const Device gpu = Device::cuda(0);
  const int64_t batch = 256;
  struct Case {
    const char* name;
    int64_t cin, cout, side, kernel;
  };
  const Case cases[] = {{"conv_1x32_28_k3", 1, 32, 28, 3},    {"conv_1x32_28_k5", 1, 32, 28, 5},
                        {"conv_32x64_28_k3", 32, 64, 28, 3},  {"conv_32x64_28_k5", 32, 64, 28, 5},
                        {"conv_64x128_14_k3", 64, 128, 14, 3}, {"conv_64x128_14_k5", 64, 128, 14, 5}};
  std::vector<cuda::ConvAlgorithm> algorithms{cuda::ConvAlgorithm::Im2colGemm, cuda::ConvAlgorithm::ImplicitGemm};
  if (cuda::built_with_cudnn()) algorithms.push_back(cuda::ConvAlgorithm::Cudnn);
  const cuda::ConvAlgorithm previous = cuda::conv_algorithm();

  std::printf("conv2d on %s, batch %lld, float32 (TF32 off), median ms; ratio = cuDNN time / this time%s\n",
              prop.name, static_cast<long long>(batch), cuda::built_with_cudnn() ? "" : " (no cuDNN in this build)");
  std::printf("  %-19s %-14s %9s %10s %7s %9s %10s %7s\n", "case", "algorithm", "fwd ms", "fwd GFLOP/s", "ratio",
              "f+b ms", "f+b GFLOP/s", "ratio");
  Generator gen(1);
  for (const Case& c : cases) {
    Tensor x = randn({batch, c.cin, c.side, c.side}, kFloat32, &gen).to(gpu).set_requires_grad(true);
    Tensor w = (randn({c.cout, c.cin, c.kernel, c.kernel}, kFloat32, &gen) * 0.1).to(gpu).set_requires_grad(true);
    Tensor b = zeros({c.cout}, kFloat32, gpu).set_requires_grad(true);
    const Tensor g = randn({batch, c.cout, c.side, c.side}, kFloat32, &gen).to(gpu);
    const Pair2 pad{c.kernel / 2, c.kernel / 2};
    const double flops = 2.0 * batch * c.cout * c.cin * c.kernel * c.kernel * c.side * c.side;
    const int reps = c.cin == 1 ? 20 : 5;
    std::vector<Timing> timings;
    for (cuda::ConvAlgorithm algorithm : algorithms) {
      cuda::set_conv_algorithm(algorithm);
      Timing t;
      t.fwd_ms = time_ms(reps, [&] {
        NoGradGuard no_grad;
        conv2d(x, w, b, {1, 1}, pad);
      });
      t.both_ms = time_ms(reps, [&] {
        x.zero_grad();
        w.zero_grad();
        b.zero_grad();
        conv2d(x, w, b, {1, 1}, pad).backward(g);
      });
      timings.push_back(t);
    }
    const bool have_cudnn = algorithms.back() == cuda::ConvAlgorithm::Cudnn;
    for (size_t a = 0; a < algorithms.size(); ++a) {
      const Timing& t = timings[a];
      char fwd_ratio[16] = "-", both_ratio[16] = "-";
      if (have_cudnn) {
        std::snprintf(fwd_ratio, sizeof fwd_ratio, "%.2f", timings.back().fwd_ms / t.fwd_ms);
        std::snprintf(both_ratio, sizeof both_ratio, "%.2f", timings.back().both_ms / t.both_ms);
      }
      std::printf("  %-19s %-14s %9.3f %10.0f %7s %9.3f %10.0f %7s\n", c.name, cuda::conv_algorithm_name(algorithms[a]),
                  t.fwd_ms, flops / t.fwd_ms * 1e-6, fwd_ratio, t.both_ms, 3 * flops / t.both_ms * 1e-6, both_ratio);
    }
  }
  cuda::set_conv_algorithm(previous);
  const cuda::MemoryStats stats = cuda::memory_stats(0);
  std::printf("\ncaching allocator: %.0f MiB in use, %.0f MiB peak, %.0f MiB cached\n", stats.current_bytes / 1048576.0,
              stats.peak_bytes / 1048576.0, stats.cached_bytes / 1048576.0);
  return 0;
}
