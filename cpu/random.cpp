// Uniform and normal fills from the Philox stream of core/philox.h; element i is a pure function
// of (seed, offset, i), so the loop parallelizes freely and the CUDA kernel can match it bit for bit.
#include "core/dispatch.h"
#include "core/philox.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

void uniform(const Tensor& out, double lo, double hi, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  dispatch_floating(out.dtype(), "uniform", [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    const T l = static_cast<T>(lo), span = static_cast<T>(hi - lo);
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      T u;
      if constexpr (sizeof(T) == 4) u = philox::uniform_f32_at(seed, offset, i);
      else u = philox::uniform_f64_at(seed, offset, i);
      p[i] = l + span * u;
    }
  });
}

void normal(const Tensor& out, double mean, double stddev, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  dispatch_floating(out.dtype(), "normal", [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    const T mu = static_cast<T>(mean), sigma = static_cast<T>(stddev);
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      T z;
      if constexpr (sizeof(T) == 4) z = philox::normal_f32_at(seed, offset, i);
      else z = philox::normal_f64_at(seed, offset, i);
      p[i] = mu + sigma * z;
    }
  });
}

}  // namespace facet::cpu
