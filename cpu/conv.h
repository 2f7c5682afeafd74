#pragma once
// Convolution kernels that only the CPU backend has, beside the shared interface of
// core/backend_kernels.h: a per-image im2col + GEMM forward and backward (cpu/conv.cpp), and
// max pooling's scatter backward (cpu/window.cpp).
// core/ops_conv.cpp checks every argument and calls these with contiguous tensors of one floating
// dtype on the CPU.
#include "core/backend_kernels.h"

namespace facet::cpu {

// x [N, C, H, W], weight [O, C, KH, KW], bias [O] or undefined; out [N, O, OH, OW].
void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                    const Tensor& out);
// grad [N, O, OH, OW]; grad_x [N, C, H, W] and grad_weight [O, C, KH, KW] are written where defined.
void conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const WindowGeometry& g,
                     const Tensor& grad_x, const Tensor& grad_weight);

// Max pooling's backward: grad_x [N, C, H, W] = the output gradients [N, C, OH, OW] added at
// their indices (offsets in the image, from max_pool2d; each stays in its own channel plane).
// An index outside its channel's plane is skipped, never written through: the return value is
// the position of the first such output, or -1, for the front door to raise (core/ops_window.cpp).
int64_t max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Tensor& grad_x);

}  // namespace facet::cpu
