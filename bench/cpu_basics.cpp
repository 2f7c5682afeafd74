// CPU baseline benchmark: facet's matmul beside the same OpenBLAS sgemm called directly, and
// facet's elementwise add beside a plain OpenMP loop and an OpenMP copy (the memory-bandwidth floor).
// Medians over repeated runs after a warm-up. Run: make bench
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "core/ops.h"
#include "facet.h"

using namespace facet;

namespace {

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch page faults, BLAS thread start-up
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
  return times[reps / 2];
}

void bench_sgemm() {
  std::printf("sgemm, C[n,n] = A[n,n] @ B[n,n] (float32), median GFLOP/s\n");
  std::printf("%6s  %12s  %12s  %14s  %8s\n", "n", "facet", "openblas", "facet A@B^T", "ratio");
  for (int64_t n : {128, 256, 512, 1024, 2048}) {
    Generator gen(n);
    const Tensor a = randn({n, n}, kFloat32, &gen), b = randn({n, n}, kFloat32, &gen);
    Tensor c = empty({n, n});
    const int reps = n <= 512 ? 50 : 7;
    const double flops = 2.0 * n * n * n;
    const double t_facet = median_seconds(reps, [&] { ops::matmul(a, b); });
    const double t_facet_t = median_seconds(reps, [&] { ops::matmul(a, b.t()); });  // transposed view, no copy
    const double t_blas = median_seconds(reps, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n,
                  0.0f, c.data<float>(), n);
    });
    std::printf("%6lld  %12.1f  %12.1f  %14.1f  %8.3f\n", static_cast<long long>(n), flops / t_facet * 1e-9,
                flops / t_blas * 1e-9, flops / t_facet_t * 1e-9, t_blas / t_facet);
  }
  std::printf("ratio = facet GFLOP/s / direct OpenBLAS GFLOP/s (1.0 = no overhead)\n\n");
}

void bench_add() {
  constexpr int64_t n = int64_t{1} << 24;  // 64 MiB per float32 operand: far past the caches
  Generator gen(1);
  const Tensor a = randn({n}, kFloat32, &gen), b = randn({n}, kFloat32, &gen);
  Tensor out = empty({n});
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  const double bytes = 3.0 * n * sizeof(float);  // two reads, one write
  const int reps = 15;
  const double t_facet = median_seconds(reps, [&] { ops::binary(BinaryOp::Add, a, b); });
  const double t_loop = median_seconds(reps, [&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
  });
  const double t_copy = median_seconds(reps, [&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) po[i] = pa[i];
  });
  std::printf("elementwise add, %lld float32 (%.0f MiB moved), median GB/s\n", static_cast<long long>(n),
              bytes / (1 << 20));
  std::printf("  facet add (allocates its output)   %7.2f GB/s\n", bytes / t_facet * 1e-9);
  std::printf("  plain OpenMP loop into a buffer    %7.2f GB/s\n", bytes / t_loop * 1e-9);
  std::printf("  OpenMP copy (the bandwidth floor)  %7.2f GB/s\n", 2.0 * n * sizeof(float) / t_copy * 1e-9);
  std::printf("  ratio facet / plain loop           %7.3f\n", t_loop / t_facet);
}

}  // namespace

int main() {
  std::printf("facet CPU bench: %d OpenMP threads, %d OpenBLAS threads\n\n", omp_get_max_threads(),
              openblas_get_num_threads());
  bench_sgemm();
  bench_add();
  return 0;
}
