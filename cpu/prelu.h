#pragma once
// PReLU kernels that only the CPU backend has (cpu/prelu.cpp); core/ops_prelu.cpp checks the
// arguments and composes elementwise ops on other devices.
#include "core/tensor.h"

namespace facet::cpu {

// x and out contiguous, seen as [outer, channels, inner]; slope [channels] (or [1], shared).
void prelu(const Tensor& x, const Tensor& slope, int64_t outer, int64_t channels, int64_t inner, const Tensor& out);
// grad, x contiguous as above; grad_x like x (undefined: not wanted); grad_slope like slope.
void prelu_backward(const Tensor& grad, const Tensor& x, const Tensor& slope, int64_t outer, int64_t channels,
                    int64_t inner, const Tensor& grad_x, const Tensor& grad_slope);

}  // namespace facet::cpu
