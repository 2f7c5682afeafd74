// CPU baseline benchmark: facet's matmul (its own AVX-512 GEMM on OpenMP threads where the CPU has
// AVX-512F, else OpenBLAS; cpu/matmul.cpp) beside OpenBLAS's sgemm called directly, and
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

// Times the candidates in turn within each repetition, so a noisy neighbour slows all of them
// alike and the ratios stay honest; returns the median seconds of each.
std::vector<double> interleaved_medians(int reps, const std::vector<std::function<void()>>& fns) {
  std::vector<std::vector<double>> times(fns.size());
  for (const auto& fn : fns) fn();  // warm-up: first-touch page faults, BLAS thread start-up
  for (int r = 0; r < reps; ++r) {
    for (size_t k = 0; k < fns.size(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      fns[k]();
      times[k].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  std::vector<double> medians;
  for (auto& t : times) {
    std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
    medians.push_back(t[reps / 2]);
  }
  return medians;
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
    const std::vector<double> t = interleaved_medians(reps, {
        [&] { ops::matmul(a, b); },
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n,
                      b.data<float>(), n, 0.0f, c.data<float>(), n);
        },
        [&] { ops::matmul(a, b.t()); },  // a transposed view goes to BLAS with the transpose flag, no copy
    });
    const double t_facet = t[0], t_blas = t[1], t_facet_t = t[2];
    std::printf("%6lld  %12.1f  %12.1f  %14.1f  %8.3f\n", static_cast<long long>(n), flops / t_facet * 1e-9,
                flops / t_blas * 1e-9, flops / t_facet_t * 1e-9, t_blas / t_facet);
  }
  std::printf("ratio = facet GFLOP/s / direct OpenBLAS GFLOP/s (facet runs OpenBLAS itself without AVX-512F: 1.0 = no"
              " overhead)\n\n");
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
  const std::vector<double> t = interleaved_medians(reps, {
      [&] { ops::binary(BinaryOp::Add, a, b); },
      [&] {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
      },
      [&] {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) po[i] = pa[i];
      },
  });
  const double t_facet = t[0], t_loop = t[1], t_copy = t[2];
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
