// Front door of convolution: every check once, then the algorithm. On the CPU, a convolution runs
// image by image (cpu/conv.cpp: im2col of one image into a cache-sized buffer and a GEMM that
// writes the image's output in place). On the GPU under Im2colGemm, it is im2col (a column matrix
// [C*KH*KW, images*OH*OW]) and one GEMM with the weight as [O, C*KH*KW] per chunk of images
// (core/ops_conv_columns.cpp); its backward is two GEMMs and col2im. On the GPU, ImplicitGemm runs
// facet's own forward kernel that never writes the column matrix (its backward is the GEMM one),
// and Cudnn runs cuDNN for all three passes. The backward recomputes the columns instead of
// keeping them from the forward: one im2col more per step, against holding a buffer of
// C*KH*KW times the input's size between the passes.
#include <climits>

#include "core/factory.h"
#include "core/ops_common.h"
#include "core/ops_conv_columns.h"
#include "cpu/conv.h"
#include "cuda/conv.h"

namespace facet::ops {

using namespace detail;

namespace {

// Shapes, dtypes and devices of x, weight and bias; the window's geometry (also checked).
WindowGeometry check_conv(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                          const ConvParams& p, Window& w) {
  FACET_CHECK(weight.defined() && weight.dim() == 4, op, "a weight [out_channels, in_channels, KH, KW]",
              weight.describe());
  FACET_CHECK(x.defined() && x.dim() == 4 && x.size(1) == weight.size(1), op,
              "an input [N, " + std::to_string(weight.size(1)) + ", H, W] for weight " + weight.describe(), x.describe());
  FACET_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), op,
              "a bias of shape [" + std::to_string(weight.size(0)) + "]", bias.describe());
  check_floating(op, x);
  check_same_dtype(op, x, weight);
  check_same_device(op, x, weight);
  if (bias.defined()) {
    check_same_dtype(op, x, bias);
    check_same_device(op, x, bias);
  }
  w = Window{{weight.size(2), weight.size(3)},
             {p.stride[0], p.stride[1]},
             {p.padding[0], p.padding[1]},
             {p.dilation[0], p.dilation[1]}};
  return window_geometry(op, x.shape(), w);
}

cuda::ConvAlgorithm algorithm_for(const Tensor& x, const Tensor& weight) {
  if (!x.device().is_cuda()) return cuda::ConvAlgorithm::Im2colGemm;
  // Empty batches and channels: the GEMM path already gives zeros and empty tensors for them,
  // which cuDNN's descriptors and the kernel's grid cannot express.
  if (x.numel() == 0 || weight.numel() == 0) return cuda::ConvAlgorithm::Im2colGemm;
  return cuda::conv_algorithm();
}

// cuDNN's descriptors hold sizes and element counts as int.
void check_cudnn_sizes(const char* op, const Tensor& x, const Tensor& weight, const WindowGeometry& g) {
  const int64_t out_numel = x.size(0) * weight.size(0) * g.cols();
  FACET_CHECK(x.numel() <= INT_MAX && weight.numel() <= INT_MAX && out_numel <= INT_MAX, op,
              "tensors of fewer than 2^31 elements for cuDNN (set_conv_algorithm(ConvAlgorithm::Im2colGemm) has no such limit)",
              "input " + x.describe() + ", weight " + weight.describe() + " and " + std::to_string(out_numel) +
                  " output elements");
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p) {
  Window w;
  const WindowGeometry g = check_conv("conv2d", x, weight, bias, p, w);
  const int64_t n = x.size(0), o = weight.size(0);
  const Tensor xc = contiguous(x), wc = contiguous(weight), bc = bias.defined() ? contiguous(bias) : bias;
  if (x.device().is_cpu()) {
    Tensor out = output("conv2d", {n, o, g.out_h, g.out_w}, x.dtype(), x.device());
    cpu::conv2d_forward(xc, wc, bc, g, out);
    return out;
  }
  const cuda::ConvAlgorithm algorithm = algorithm_for(x, weight);
  if (algorithm == cuda::ConvAlgorithm::Im2colGemm) return conv2d_by_columns(xc, wc, bc, g, w);
  if (algorithm == cuda::ConvAlgorithm::Cudnn) check_cudnn_sizes("conv2d", x, weight, g);
  Tensor out = output("conv2d", {n, o, g.out_h, g.out_w}, x.dtype(), x.device());
  if (algorithm == cuda::ConvAlgorithm::ImplicitGemm) cuda::conv2d_implicit_gemm(xc, wc, bc, g, out);
  else cuda::cudnn_conv2d_forward(xc, wc, bc, g, out);
  return out;
}

std::array<Tensor, 3> conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const ConvParams& p,
                                      std::array<bool, 3> needs) {
  const char* op = "conv2d backward";
  Window w;
  const WindowGeometry g = check_conv(op, x, weight, Tensor(), p, w);
  check_defined(op, grad, "the output gradient");
  const int64_t n = x.size(0), o = weight.size(0);
  const Shape out_shape{n, o, g.out_h, g.out_w};
  FACET_CHECK(grad.shape() == out_shape, op, "an output gradient of shape " + shape_str(out_shape), grad.describe());
  check_same_dtype(op, grad, x);
  check_same_device(op, grad, x);
  const Tensor gc = contiguous(grad);
  std::array<Tensor, 3> out;
  if (needs[2]) out[2] = reshape(sum_to(gc, {1, o, 1, 1}), {o});
  if (!needs[0] && !needs[1]) return out;
  const Tensor xc = contiguous(x), wc = contiguous(weight);
  if (x.device().is_cpu()) {
    if (needs[0]) out[0] = output(op, x.shape(), x.dtype(), x.device());
    if (needs[1]) out[1] = output(op, weight.shape(), x.dtype(), x.device());
    cpu::conv2d_backward(gc, xc, wc, g, out[0], out[1]);
    return out;
  }
  if (algorithm_for(x, weight) == cuda::ConvAlgorithm::Cudnn) {
    check_cudnn_sizes(op, x, weight, g);
    if (needs[0]) {
      out[0] = output(op, x.shape(), x.dtype(), x.device());
      cuda::cudnn_conv2d_backward_data(gc, wc, g, out[0]);
    }
    if (needs[1]) {
      out[1] = output(op, weight.shape(), x.dtype(), x.device());
      cuda::cudnn_conv2d_backward_filter(gc, xc, g, out[1]);
    }
    return out;
  }
  // Im2colGemm and ImplicitGemm: d columns = W^T @ dY, then col2im; dW = dY @ columns^T.
  const std::array<Tensor, 2> grads = conv2d_backward_by_columns(gc, xc, wc, g, w, {needs[0], needs[1]});
  out[0] = grads[0];
  out[1] = grads[1];
  return out;
}

}  // namespace facet::ops
