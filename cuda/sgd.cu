// SGD's update in one launch per parameter (core/sgd_math.h per element, the CPU's math): reads
// p, its gradient and the momentum buffer once and writes p and the buffer. Composed of
// elementwise ops the same update took up to ten launches and eight temporaries per parameter.
#include "core/dispatch.h"
#include "core/sgd_math.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

template <class T>
__global__ void sgd_elements(SgdCoefficients<T> c, T* p, const T* g, T* buf, int64_t n) {
  FACET_GRID_STRIDE_LOOP(i, n) p[i] = sgd_update(c, p[i], g[i], buf ? buf + i : nullptr);
}

}  // namespace

void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& step) {
  const int64_t n = param.numel();
  if (n == 0) return;
  const int device = param.device().index;
  DeviceGuard guard(device);
  dispatch_floating(param.dtype(), "sgd step", [&](auto tag) {
    using T = decltype(tag);
    T* buf = momentum_buffer.defined() ? static_cast<T*>(momentum_buffer.raw_data()) : nullptr;
    sgd_elements<T><<<grid_for(n), kBlock, 0, stream(device)>>>(
        SgdCoefficients<T>(step), static_cast<T*>(param.raw_data()), static_cast<const T*>(grad.raw_data()), buf, n);
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
