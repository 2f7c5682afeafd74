#pragma once
// The front door of every primitive: graph-free ops that check shapes, dtypes and devices once,
// with a message naming the op and what it got, then dispatch to cpu:: or cuda::. Backends trust
// their inputs. autograd/ builds the differentiable API on top of these; optimizers and kernel
// tests call them directly.
#include <array>
#include <cstdint>
#include <utility>

#include "core/conv_math.h"

#include "core/elementwise_math.h"
#include "core/margin_math.h"
#include "core/generator.h"
#include "core/sgd_math.h"
#include "core/tensor.h"

namespace facet::ops {

// ---- views: share storage, never copy ----
Tensor as_strided(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);
Tensor view(const Tensor& t, Shape shape);      // facet::Error when the strides do not allow it
Tensor reshape(const Tensor& t, Shape shape);   // a view when possible, else a contiguous copy
Tensor transpose(const Tensor& t, int64_t d0, int64_t d1);
Tensor permute(const Tensor& t, const Shape& dims);
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
Tensor squeeze(const Tensor& t, int64_t dim);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor expand(const Tensor& t, const Shape& shape);  // stride 0 along broadcast dims
// Strips the autograd slot: same storage, no history.
Tensor alias(const Tensor& t);

// ---- copies ----
Tensor contiguous(const Tensor& t);  // t itself (shared) when already contiguous
Tensor clone(const Tensor& t);
Tensor cast(const Tensor& t, DType dtype);
Tensor to_device(const Tensor& t, Device device);  // CPU <-> CUDA and between GPUs
// A copy in page-locked host memory: its copies to a GPU run asynchronously on the stream.
Tensor pin_memory(const Tensor& t);
void copy_(const Tensor& dst, const Tensor& src);  // src broadcasts to dst; dtypes may differ
void fill_(const Tensor& dst, double value);

// ---- elementwise (NumPy broadcasting) ----
Tensor unary(UnaryOp op, const Tensor& x, double a = 0.0, double b = 0.0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary(BinaryOp op, const Tensor& a, double b);
// cond != 0 picks a, else b; all three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- reductions (float accumulation in double on the CPU) ----
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim);
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int64_t dim, bool keepdim);
Tensor argmax(const Tensor& x);  // int64, index into the flattened tensor
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim);
// Sums a broadcast result back to `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- linear algebra (OpenBLAS on the CPU) ----
// a [..., m, k] @ b [..., k, n]; batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- normalization along a dim ----
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// x / max(||x||_2, eps) along dim, as torch.nn.functional.normalize.
Tensor normalize(const Tensor& x, int64_t dim, double eps);
// Its input gradient for an output gradient g, in one pass per lane (no temporaries):
//   (g - x (g . x) / |x|²) / |x| where |x| > eps, else g / eps.
Tensor normalize_backward(const Tensor& x, const Tensor& grad, int64_t dim, double eps);

// ---- indexing (indices are int64) ----
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// x with source added at the positions index names along dim (a copy; x is unchanged).
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source);
// out[..i..] = x[..index[..i..]..] along dim; index has x's shape except along dim.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// x with src[..i..] added at [..index[..i..]..] along dim (a copy; x is unchanged).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype = kFloat32);

// ---- sliding windows (NCHW) ----
struct Window {
  int64_t kernel[2];
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
};
// Checked geometry of `w` over an input [N, C, H, W]; out_h / out_w as PyTorch computes them.
WindowGeometry window_geometry(const char* op, const Shape& input, const Window& w);
// [N, C, H, W] -> [C * KH * KW, N, OH * OW] (zeros where the window covers padding): the layout
// in which a whole batch's convolution is one GEMM.
Tensor im2col(const Tensor& x, const Window& w);
// The adjoint of im2col: sums the columns back into an image of input_shape.
Tensor col2im(const Tensor& cols, const Shape& input_shape, const Window& w);
// Max over each window (padding never wins) and the winner's offset inside its image [C, H, W].
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const Window& w);
// Its backward for the indices max_pool2d gave with window w: each output gradient added at its
// index (offset in the image) into zeros of input_shape. CPU: a scatter per channel plane (an
// index outside its plane is a facet::Error); CUDA: a gather per input element over the windows
// covering it (core/conv_math.h's max_pool_gather; an index outside its window adds nothing).
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape, const Window& w);

// PReLU (core/ops_prelu.cpp): y = x > 0 ? x : a * x, slope a [C] along dim 1 or [1] shared. Its
// backward gives the input's gradient (when needs_x) and the slope's.
Tensor prelu(const Tensor& x, const Tensor& slope);
std::pair<Tensor, Tensor> prelu_backward(const Tensor& grad, const Tensor& x, const Tensor& slope, bool needs_x);

// ---- convolution (NCHW; the kernel size comes from the weight) ----
struct ConvParams {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
};
// x [N, C, H, W] (*) weight [O, C, KH, KW] + bias [O] (may be undefined) -> [N, O, OH, OW],
// contiguous. CPU: im2col + GEMM; CUDA: the algorithm of cuda::conv_algorithm() (cuda/runtime.h).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p);
// Gradients for x, weight and bias (each only where `needs` says) given grad [N, O, OH, OW].
std::array<Tensor, 3> conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const ConvParams& p,
                                      std::array<bool, 3> needs);

// ---- training-mode batch normalization over dim 1 of x [N, C, ...] (core/batchnorm_math.h) ----
// Per-channel mean and biased variance.
std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x);
// (x - mean) / sqrt(var + eps) * weight + bias; weight and bias may be undefined.
Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                        const Tensor& bias, double eps);
// Gradients for x, weight and bias (each computed only where `needs` says), given the batch stats.
std::array<Tensor, 3> batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& mean, const Tensor& var,
                                          const Tensor& weight, double eps, std::array<bool, 3> needs);
// Training mode's update of the running statistics in one pass (torch.nn.BatchNorm's, the
// variance unbiased by count / (count - 1), count > 1 values a channel), in place; num_batches_tracked
// (an int64 scalar, or undefined) counts one more batch. All on one device; the [C] tensors of one dtype.
void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const Tensor& num_batches_tracked,
                               const Tensor& mean, const Tensor& var, double momentum, int64_t count);
// Batchnorm then PReLU in the same passes (slope [C] or [1]; undefined: batchnorm alone), and its
// backward from the gradient of PReLU's output: x, weight, bias and slope gradients.
Tensor batch_norm_prelu_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                              const Tensor& bias, const Tensor& slope, double eps);
std::array<Tensor, 4> batch_norm_prelu_backward(const Tensor& grad, const Tensor& x, const Tensor& mean,
                                                const Tensor& var, const Tensor& weight, const Tensor& bias,
                                                const Tensor& slope, double eps, std::array<bool, 4> needs);

// ---- margin softmax cross-entropy (core/margin_math.h) ----
// For x [B, C] (cos θ for a margin head, logits for plain cross-entropy) and int64 labels [B] in
// [0, C): the per-row loss [B] (x's dtype) and the per-row log-sum-exp [B] (float64, for the
// backward). label_smoothing in [0, 1], as PyTorch's cross_entropy defines it.
std::pair<Tensor, Tensor> margin_cross_entropy(const Tensor& x, const Tensor& labels, const MarginSpec& spec,
                                               double label_smoothing);
// dL/dx [B, C] for a row gradient [B] (dL/dloss_i), from the forward's log-sum-exp.
Tensor margin_cross_entropy_backward(const Tensor& row_grad, const Tensor& x, const Tensor& labels, const Tensor& lse,
                                     const MarginSpec& spec, double label_smoothing);
// Elementwise: the margin's target logit (before the scale) of each cos, or its derivative.
Tensor margin_target(const Tensor& cos, const MarginSpec& spec, bool slope);
// facet::Error unless the margin's parameters are usable (finite, s > 0, margins in range).
void check_margin_spec(const char* op, const MarginSpec& spec);
// facet::Error unless labels is int64 [batch] on `device` with every value in [0, num_classes)
// (reading the values costs a GPU a device-to-host copy: check_values = false skips them).
void check_labels(const char* op, const Tensor& labels, int64_t batch, int64_t num_classes, Device device,
                  bool check_values = true);

// ---- optimizer updates (core/ops_sgd.cpp) ----
// One SGD step in one pass (core/sgd_math.h): param updated in place, and momentum_buffer with it
// (defined exactly when step.momentum != 0; with step.first it is only written). param and the
// buffer contiguous; grad any layout; all of param's shape, dtype and device. `lr`, when given, is a
// one-element float64 tensor on param's device read in place of step.lr where the update runs (a
// CUDA graph's replays then use its current value; step.lr_in_memory is always set from it). Only
// step.lr is checked to be finite: the tensor's value is not read on the host.
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& step,
              const Tensor& lr = Tensor());

// ---- random fills ----
void uniform_(const Tensor& t, double lo, double hi, Generator& gen);
void normal_(const Tensor& t, double mean, double stddev, Generator& gen);

}  // namespace facet::ops
