// Uniform and normal fills: thread i computes element i from core/philox.h, the same function the
// CPU loop calls, so both backends draw the same stream for the same (seed, offset). Uniforms are
// bit-identical (integer bits times a power of two); normals go through log/sin/cos, whose last
// bit may differ between the host's libm and the device's (within 2 ulp in float64 terms).
// Floor: one write per element; Philox's 10 rounds make it compute-light all the same.
#include <cstdint>

#include "core/dispatch.h"
#include "core/philox.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

template <class T>
__global__ void uniform_kernel(int64_t n, T lo, T span, uint64_t seed, uint64_t offset, T* out) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    T u;
    if constexpr (sizeof(T) == 4) u = philox::uniform_f32_at(seed, offset, i);
    else u = philox::uniform_f64_at(seed, offset, i);
    out[i] = lo + span * u;
  }
}

template <class T>
__global__ void normal_kernel(int64_t n, T mean, T stddev, uint64_t seed, uint64_t offset, T* out) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    T z;
    if constexpr (sizeof(T) == 4) z = philox::normal_f32_at(seed, offset, i);
    else z = philox::normal_f64_at(seed, offset, i);
    out[i] = mean + stddev * z;
  }
}

}  // namespace

void uniform(const Tensor& out, double lo, double hi, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(out.dtype(), "uniform_", [&](auto tag) {
    using T = decltype(tag);
    uniform_kernel<T><<<grid_for(n), kBlock, 0, stream(device)>>>(n, static_cast<T>(lo), static_cast<T>(hi - lo), seed,
                                                                   offset, static_cast<T*>(out.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void normal(const Tensor& out, double mean, double stddev, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(out.dtype(), "normal_", [&](auto tag) {
    using T = decltype(tag);
    normal_kernel<T><<<grid_for(n), kBlock, 0, stream(device)>>>(n, static_cast<T>(mean), static_cast<T>(stddev), seed,
                                                                  offset, static_cast<T*>(out.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
