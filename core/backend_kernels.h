#pragma once
// The kernel interface that both backends implement, listed once: cpu/cpu.h and cuda/cuda.h
// declare it inside their namespaces, and a build without CUDA defines the cuda:: side as
// facet::Errors (cuda/unavailable.cpp).
//
// The front door (core/ops) has checked every argument before a kernel runs: shapes agree,
// dtypes are supported, index values are in range, all tensors are on the kernel's device and
// outputs are allocated. Kernels read strided inputs and write the outputs they are given.
#include <cstdint>

#include "core/conv_math.h"
#include "core/elementwise_math.h"
#include "core/margin_math.h"
#include "core/sgd_math.h"
#include "core/tensor.h"

namespace facet {

enum class Reduce { Sum, Mean, Max, Argmax };

// K(name, parameter list)
#define FACET_BACKEND_KERNELS(K)                                                                       \
  /* same shape, any strides and dtypes */                                                           \
  K(copy, (const Tensor& dst, const Tensor& src))                                                      \
  K(fill, (const Tensor& dst, double value))                                                           \
  /* inputs already expanded to out's shape (stride 0 where broadcast); out contiguous */            \
  K(unary, (UnaryOp op, const Tensor& x, double a, double b, const Tensor& out))                      \
  K(binary, (BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out))                       \
  K(where, (const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out))                 \
  /* x contiguous, seen as [outer, n, inner]; out contiguous [outer, inner] */                       \
  K(reduce, (Reduce kind, const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out)) \
  /* out[b] = a[b] @ bm[b]; last two dims BLAS-ready (a stride of 1), batch dims expanded */         \
  K(matmul, (const Tensor& a, const Tensor& bm, const Tensor& out))                                   \
  /* x and out contiguous, seen as [outer, n, inner] */                                               \
  K(softmax, (const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, const Tensor& out))  \
  K(normalize, (const Tensor& x, int64_t outer, int64_t n, int64_t inner, double eps, const Tensor& out)) \
  /* x, grad and out contiguous [outer, n, inner]: normalize's input gradient (core/ops.h) */         \
  K(normalize_backward, (const Tensor& x, const Tensor& grad, int64_t outer, int64_t n, int64_t inner,    \
                         double eps, const Tensor& out))                                               \
  /* contiguous operands seen as [outer, n, inner]; index contiguous int64 */                        \
  K(index_select, (const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index,      \
                   const Tensor& out))                                                                \
  K(index_add, (const Tensor& index, const Tensor& source, int64_t outer, int64_t n, int64_t inner,    \
                const Tensor& out))                                                                   \
  /* index and src [outer, k, inner]; x and out [outer, n, inner] */                                 \
  K(gather, (const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index,            \
             const Tensor& out))                                                                      \
  K(scatter_add, (const Tensor& index, const Tensor& src, int64_t outer, int64_t n, int64_t inner,     \
                  const Tensor& out))                                                                 \
  K(one_hot, (const Tensor& labels, int64_t num_classes, const Tensor& out))                          \
  /* x contiguous [N, C, H, W]; cols contiguous [C * KH * KW, N, OH * OW] (core/conv_math.h) */      \
  K(im2col, (const Tensor& x, const WindowGeometry& g, const Tensor& cols))                             \
  K(col2im, (const Tensor& cols, const WindowGeometry& g, const Tensor& x))                             \
  /* x contiguous [N, C, H, W]; out and indices (int64, offsets in each image) [N, C, OH, OW] */     \
  K(max_pool2d, (const Tensor& x, const WindowGeometry& g, const Tensor& out, const Tensor& indices))   \
  /* batchnorm over x contiguous [N, C, inner] (core/batchnorm_math.h); per-channel tensors [C]; */   \
  /* weight and bias may be undefined (1 and 0); a defined slope ([C] or [1]) applies PReLU to the */ \
  /* output in the same pass, and the backward then takes the gradient of PReLU's output */         \
  K(batch_norm_stats, (const Tensor& x, const Tensor& mean, const Tensor& var))                          \
  K(batch_norm_apply, (const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,      \
                       const Tensor& bias, const Tensor& slope, double eps, const Tensor& out))          \
  K(batch_norm_backward, (const Tensor& grad, const Tensor& x, const Tensor& mean, const Tensor& var,    \
                          const Tensor& weight, const Tensor& bias, const Tensor& slope, double eps,     \
                          const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,      \
                          const Tensor& grad_slope))                                                     \
  /* running_mean and running_var [C] updated in place from the batch's mean and biased var [C] over */ \
  /* count values a channel (core/batchnorm_math.h); num_batches (int64 scalar, may be undefined) += 1 */ \
  K(batch_norm_update_running, (const Tensor& running_mean, const Tensor& running_var, const Tensor& num_batches, \
                                const Tensor& mean, const Tensor& var, double momentum, int64_t count))         \
  /* margin softmax cross-entropy (core/margin_math.h): x contiguous [B, C] (cos or logits), labels */ \
  /* int64 [B] in range; per-row loss [B] and float64 logsumexp [B]; row_grad [B]; grad_x [B, C] */ \
  K(margin_ce_forward, (const Tensor& x, const Tensor& labels, const MarginSpec& spec, double smoothing,   \
                        const Tensor& loss, const Tensor& lse))                                           \
  K(margin_ce_backward, (const Tensor& x, const Tensor& labels, const Tensor& lse, const Tensor& row_grad,  \
                         const MarginSpec& spec, double smoothing, const Tensor& grad_x))                  \
  /* x and out contiguous, same shape: the margin target value (slope false) or its derivative */   \
  K(margin_target, (const Tensor& x, const MarginSpec& spec, bool slope, const Tensor& out))           \
  /* param, grad and momentum_buffer contiguous, same shape; param (and the buffer, defined only */  \
  /* when step.momentum != 0) updated in place by core/sgd_math.h */                                  \
  K(sgd_step, (const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& step)) \
  /* out contiguous; element i is philox's (seed, offset, i) draw */                                  \
  K(uniform, (const Tensor& out, double lo, double hi, uint64_t seed, uint64_t offset))               \
  K(normal, (const Tensor& out, double mean, double stddev, uint64_t seed, uint64_t offset))

#define FACET_DECLARE_KERNEL(name, params) void name params;

}  // namespace facet
