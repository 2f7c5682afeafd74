// GPU benchmark: facet's kernels beside the yardsticks measured in the same run — the
// device-to-device copy bandwidth for the memory-bound kernels, and cuBLAS called directly for
// matmul. CUDA events on facet's stream; the median of 7 rounds after a warm-up. Run: make bench
// (on a machine with a GPU; elsewhere it says so and exits 0). Every CUDA and cuBLAS call is
// checked, so a failure stops the run instead of printing numbers of nothing.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "bench/cuda_timing.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "facet.h"

using namespace facet;

namespace {

using bench::time_ms;

void row(const char* name, double bytes, double ms, double floor_gbs) {
  const double gbs = bytes / ms * 1e-6;
  std::printf("  %-48s %9.3f ms %9.1f GB/s   %5.2f of copy\n", name, ms, gbs, gbs / floor_gbs);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line reaches the log even if a time limit stops the run
  if (cuda_device_count() == 0) {
    std::printf("cuda_kernels: no GPU found, nothing to measure\n");
    return 0;
  }
  cudaDeviceProp prop;
  FACET_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("facet GPU bench on %s\n\n", prop.name);
  const Device gpu = Device::cuda(0);
  Generator gen(1);

  const int64_t n = int64_t{1} << 26;  // 256 MiB of float32
  const Tensor a = randn({n}, kFloat32, &gen).to(gpu), b = randn({n}, kFloat32, &gen).to(gpu);
  Tensor dst = empty({n}, kFloat32, gpu);
  const double bytes = static_cast<double>(n) * 4;
  const auto copy = [&] {
    FACET_CUDA_CHECK(
        cudaMemcpyAsync(dst.raw_data(), a.raw_data(), static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, cuda::stream(0)));
  };
  for (int i = 0; i < 4000; ++i) copy();  // about half a second: the clocks leave idle before the yardstick
  cuda::synchronize(0);
  const double copy_ms = time_ms(10, copy);
  const double copy_gbs = 2 * bytes / copy_ms * 1e-6;
  std::printf("memory-bound kernels, float32 (yardstick: device-to-device copy %.1f GB/s)\n", copy_gbs);
  row("copy (read + write)", 2 * bytes, copy_ms, copy_gbs);
  row("add a + b", 3 * bytes, time_ms(10, [&] { ops::binary(BinaryOp::Add, a, b); }), copy_gbs);
  row("mul a * 0.5 (a one-element operand)", 2 * bytes, time_ms(10, [&] { ops::binary(BinaryOp::Mul, a, 0.5); }),
      copy_gbs);
  row("exp(a)", 2 * bytes, time_ms(10, [&] { ops::unary(UnaryOp::Exp, a); }), copy_gbs);
  row("sum(a), whole", bytes, time_ms(10, [&] { ops::sum(a); }), copy_gbs);
  const Tensor m = a.reshape({8192, 8192});
  row("sum(m, dim 1), [8192, 8192]", bytes, time_ms(10, [&] { ops::sum(m, 1, false); }), copy_gbs);
  row("sum(m, dim 0), [8192, 8192]", bytes, time_ms(10, [&] { ops::sum(m, 0, false); }), copy_gbs);
  const Tensor logits = a.reshape({65536, 1024});
  row("softmax rows [65536, 1024]", 2 * bytes, time_ms(10, [&] { ops::softmax(logits, 1); }), copy_gbs);
  row("normalize rows [65536, 1024]", 2 * bytes, time_ms(10, [&] { ops::normalize(logits, 1, 1e-12); }), copy_gbs);

  // Training-mode batchnorm on the same 256 MiB, far beyond the L2 (the target: >= 0.8 of
  // copy). The bytes are each pass's floor: statistics read x once, apply reads x and writes y, the
  // backward reads g and x for the channel sums and again for the input gradient, which it writes.
  // Few channels ([512, 32, 64, 64]: each channel's values cut into chunks across the device) and
  // many ([8192, 512, 4, 4]), plus the fused PReLU (the cnn's BatchNorm2d + PReLU).
  for (const Shape& shape : {Shape{512, 32, 64, 64}, Shape{8192, 512, 4, 4}}) {
    const Tensor x = a.reshape(shape), g = b.reshape(shape);
    const Tensor w = ones({shape[1]}, kFloat32, gpu), bias = zeros({shape[1]}, kFloat32, gpu);
    const Tensor slope = full({shape[1]}, 0.25, kFloat32, gpu);
    const auto [mean, var] = ops::batch_norm_stats(x);
    const std::string dims = shape_str(shape);
    row(("batchnorm stats " + dims).c_str(), bytes, time_ms(10, [&] { ops::batch_norm_stats(x); }), copy_gbs);
    row(("batchnorm apply " + dims).c_str(), 2 * bytes,
        time_ms(10, [&] { ops::batch_norm_prelu_apply(x, mean, var, w, bias, Tensor(), 1e-5); }), copy_gbs);
    row(("batchnorm backward " + dims).c_str(), 5 * bytes,
        time_ms(10, [&] { ops::batch_norm_backward(g, x, mean, var, w, 1e-5, {true, true, true}); }), copy_gbs);
    row(("batchnorm+prelu fwd+bwd " + dims).c_str(), 8 * bytes, time_ms(10, [&] {
          const auto [m, v] = ops::batch_norm_stats(x);
          ops::batch_norm_prelu_apply(x, m, v, w, bias, slope, 1e-5);
          ops::batch_norm_prelu_backward(g, x, m, v, w, bias, slope, 1e-5, {true, true, true, true});
        }), copy_gbs);
  }

  // The window kernels (cuda/window.cu) on the same 256 MiB as [512, 32, 64, 64]: im2col of a
  // 3x3, padding-1 window writes nine times the input (2.25 GiB) and reads it once, col2im the
  // reverse, 2x2 max pooling reads it once and writes a quarter of it plus int64 indices (its
  // backward reads those and writes the input's size).
  {
    const Tensor x = a.reshape({512, 32, 64, 64});
    const ops::Window conv3{{3, 3}, {1, 1}, {1, 1}, {1, 1}}, pool2{{2, 2}, {2, 2}, {0, 0}, {1, 1}};
    const Tensor cols = ops::im2col(x, conv3);
    row("im2col 3x3 pad 1 [512, 32, 64, 64]", 10 * bytes, time_ms(10, [&] { ops::im2col(x, conv3); }), copy_gbs);
    row("col2im 3x3 pad 1 [512, 32, 64, 64]", 10 * bytes,
        time_ms(10, [&] { ops::col2im(cols, x.shape(), conv3); }), copy_gbs);
    row("max_pool2d 2x2 [512, 32, 64, 64]", 1.75 * bytes, time_ms(10, [&] { ops::max_pool2d(x, pool2); }), copy_gbs);
    const auto [pooled, indices] = ops::max_pool2d(x, pool2);
    row("max_pool2d backward 2x2 [512, 32, 64, 64]", 1.75 * bytes,
        time_ms(10, [&] { ops::max_pool2d_backward(pooled, indices, x.shape(), pool2); }), copy_gbs);
  }

  std::printf("\nsgemm C = A @ B (float32, TF32 off), TFLOP/s\n");
  std::printf("  %6s %12s %12s %8s\n", "n", "facet", "cuBLAS", "ratio");
  for (int64_t s : {1024, 4096, 8192}) {
    const Tensor x = randn({s, s}, kFloat32, &gen).to(gpu), y = randn({s, s}, kFloat32, &gen).to(gpu);
    Tensor z = empty({s, s}, kFloat32, gpu);
    const float one = 1.0f, zero = 0.0f;
    const int reps = s <= 1024 ? 50 : 5;
    const double t_facet = time_ms(reps, [&] { ops::matmul(x, y); });
    const double t_cublas = time_ms(reps, [&] {
      FACET_CUBLAS_CHECK(cublasSgemm(cuda::cublas(0), CUBLAS_OP_N, CUBLAS_OP_N, s, s, s, &one, y.data<float>(), s,
                                     x.data<float>(), s, &zero, z.data<float>(), s));
    });
    const double flops = 2.0 * s * s * s;
    std::printf("  %6lld %12.1f %12.1f %8.3f\n", static_cast<long long>(s), flops / t_facet * 1e-9,
                flops / t_cublas * 1e-9, t_cublas / t_facet);
  }
  const cuda::MemoryStats stats = cuda::memory_stats(0);
  std::printf("\ncaching allocator: %.0f MiB in use, %.0f MiB peak, %.0f MiB cached\n", stats.current_bytes / 1048576.0,
              stats.peak_bytes / 1048576.0, stats.cached_bytes / 1048576.0);
  return 0;
}
