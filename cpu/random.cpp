// Uniform and normal fills from the Philox stream of core/philox.h; element i is a pure function
// of (seed, offset, i), so the loop parallelizes freely and the CUDA kernel can match it bit for bit.
#include "core/dispatch.h"
#include "core/philox.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

namespace {

template <bool kNormal>
void fill_random(const char* op, const Tensor& out, double a, double b, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  dispatch_floating(out.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    const T ta = static_cast<T>(a), tb = static_cast<T>(b);
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) p[i] = philox::random_at<T, kNormal>(seed, offset, i, ta, tb);
  });
}

}  // namespace

void uniform(const Tensor& out, double lo, double hi, uint64_t seed, uint64_t offset) {
  fill_random<false>("uniform_", out, lo, hi - lo, seed, offset);
}

void normal(const Tensor& out, double mean, double stddev, uint64_t seed, uint64_t offset) {
  fill_random<true>("normal_", out, mean, stddev, seed, offset);
}

}  // namespace facet::cpu
