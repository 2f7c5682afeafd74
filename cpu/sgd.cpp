// SGD's update in one pass per parameter (core/sgd_math.h per element): reads p, its gradient and
// the momentum buffer once and writes p and the buffer. Composed of elementwise ops the same
// update took up to ten passes and eight temporaries.
#include "core/dispatch.h"
#include "core/sgd_math.h"
#include "cpu/cpu.h"

namespace facet::cpu {

void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& step) {
  const int64_t n = param.numel();
  dispatch_floating(param.dtype(), "sgd step", [&](auto tag) {
    using T = decltype(tag);
    const SgdCoefficients<T> c(step);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* buf = momentum_buffer.defined() ? momentum_buffer.data<T>() : nullptr;
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) p[i] = sgd_update(c, p[i], g[i], buf ? buf + i : nullptr);
  });
}

}  // namespace facet::cpu
