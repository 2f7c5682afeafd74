#pragma once
// Convolution and pooling kernels that only the CUDA backend has, beside the shared interface of
// core/backend_kernels.h (whose im2col and col2im both backends implement): the implicit-GEMM
// forward (cuda/conv2d_implicit_gemm.cu), the three cuDNN passes (cuda/cudnn_conv.cu) and max
// pooling's gathered backward (cuda/window.cu; the CPU's scatters, cpu/conv.h).
// core/ops_conv.cpp checks every argument, picks the algorithm (cuda::conv_algorithm()) and calls
// these with contiguous float tensors on one device. A build without CUDA defines them as errors
// (cuda/unavailable.cpp); a CUDA build without cuDNN defines the cudnn_ ones as errors that say
// to rebuild with USE_CUDNN=1.
#include "core/backend_kernels.h"
#include "cuda/runtime.h"

// x [N, C, H, W], weight [O, C, KH, KW], bias [O] or undefined, out / grad [N, O, OH, OW].
#define FACET_CUDA_CONV_KERNELS(K)                                                                      \
  K(conv2d_implicit_gemm, (const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g, \
                           const Tensor& out))                                                          \
  K(cudnn_conv2d_forward, (const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g, \
                           const Tensor& out))                                                          \
  K(cudnn_conv2d_backward_data, (const Tensor& grad, const Tensor& weight, const WindowGeometry& g,        \
                                 const Tensor& grad_x))                                                  \
  K(cudnn_conv2d_backward_filter, (const Tensor& grad, const Tensor& x, const WindowGeometry& g,           \
                                   const Tensor& grad_weight))                                           \
  /* max pooling's backward as a gather (cuda/window.cu): grad and indices [N, C, OH, OW] */          \
  K(max_pool2d_backward, (const Tensor& grad, const Tensor& indices, const WindowGeometry& g,              \
                          const Tensor& grad_x))

namespace facet::cuda {
FACET_CUDA_CONV_KERNELS(FACET_DECLARE_KERNEL)
}  // namespace facet::cuda
