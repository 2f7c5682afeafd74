// Uniform and normal fills: thread i computes element i with core/philox.h's random_at, the same
// function the CPU loop calls, so both backends draw the same stream for the same (seed, offset).
// Uniforms are bit-identical (integer bits times a power of two); normals go through log/sin/cos
// in double, whose last bit may differ between the host's libm and the device's (float32 results
// round that away except at a rounding tie; float64 ones can differ by an ulp).
// Launch: grid-stride over the elements. Floor: one write per element.
#include <cstdint>

#include "core/dispatch.h"
#include "core/philox.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

template <class T, bool kNormal>
__global__ void random_kernel(int64_t n, T a, T b, uint64_t seed, uint64_t offset, T* out) {
  FACET_GRID_STRIDE_LOOP(i, n) out[i] = philox::random_at<T, kNormal>(seed, offset, i, a, b);
}

template <bool kNormal>
void fill_random(const char* op, const Tensor& out, double a, double b, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(out.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    random_kernel<T, kNormal><<<grid_for(n), kBlock, 0, stream(device)>>>(n, static_cast<T>(a), static_cast<T>(b), seed,
                                                                          offset, static_cast<T*>(out.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void uniform(const Tensor& out, double lo, double hi, uint64_t seed, uint64_t offset) {
  fill_random<false>("uniform_", out, lo, hi - lo, seed, offset);
}

void normal(const Tensor& out, double mean, double stddev, uint64_t seed, uint64_t offset) {
  fill_random<true>("normal_", out, mean, stddev, seed, offset);
}

}  // namespace facet::cuda
