// Differentiable convolution and pooling, built on the sliding-window ops. A convolution is one
// node over ops::conv2d and ops::conv2d_backward (core/ops_conv.cpp), which pick the algorithm
// (im2col + GEMM, the implicit-GEMM kernel or cuDNN); max pooling sends each output's gradient to
// the input element that won its window.
#include <algorithm>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

namespace {

ops::Window window(Pair2 kernel, Pair2 stride, Pair2 padding, Pair2 dilation) {
  ops::Window w;
  for (int i = 0; i < 2; ++i) {
    w.kernel[i] = kernel[i];
    w.stride[i] = stride[i];
    w.padding[i] = padding[i];
    w.dilation[i] = dilation[i];
  }
  return w;
}

Tensor im2col_recorded(const Tensor& x, const ops::Window& w) {
  return record("Im2colBackward", ops::im2col(x, w), {x}, [shape = x.shape(), w](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::col2im(g, shape, w)};
  });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Pair2 stride, Pair2 padding, Pair2 dilation) {
  const ops::ConvParams p{{stride[0], stride[1]}, {padding[0], padding[1]}, {dilation[0], dilation[1]}};
  const Tensor out = ops::conv2d(x, weight, bias, p);  // checks, and picks the algorithm
  const bool has_bias = bias.defined();
  return record("Conv2dBackward", out, {x, weight, bias},
                [xs = ops::alias(x), ws = ops::alias(weight), p, has_bias](const Tensor& g, const NeedsGrad& needs) {
                  const auto grads = ops::conv2d_backward(g, xs, ws, p, {needs[0], needs[1], has_bias && needs[2]});
                  return std::vector<Tensor>{grads[0], grads[1], grads[2]};
                });
}

Tensor max_pool2d(const Tensor& x, Pair2 kernel, Pair2 stride, Pair2 padding, Pair2 dilation) {
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;  // PyTorch's default: stride = kernel
  const ops::Window w = window(kernel, stride, padding, dilation);
  const auto [out, indices] = ops::max_pool2d(x, w);
  return record("MaxPool2dBackward", out, {x},
                [shape = x.shape(), indices = indices, w](const Tensor& g, const NeedsGrad&) {
                  return std::vector<Tensor>{ops::max_pool2d_backward(g, indices, shape, w)};
                });
}

Tensor avg_pool2d(const Tensor& x, Pair2 kernel, Pair2 stride, Pair2 padding) {
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;
  FACET_CHECK(x.defined() && x.dim() == 4, "avg_pool2d", "an input [N, C, H, W]", x.describe());
  const ops::Window w = window(kernel, stride, padding, {1, 1});
  const WindowGeometry geom = ops::window_geometry("avg_pool2d", x.shape(), w);
  FACET_CHECK(2 * padding[0] <= kernel[0] && 2 * padding[1] <= kernel[1], "avg_pool2d",
              "padding at most half the kernel (as PyTorch requires)",
              "padding " + shape_str({padding[0], padding[1]}) + " for kernel " + shape_str({kernel[0], kernel[1]}));
  // Each channel as its own one-channel image: the mean of its window columns (padding counts as
  // zeros, PyTorch's count_include_pad=True).
  const Tensor cols = im2col_recorded(x.reshape({x.size(0) * x.size(1), 1, x.size(2), x.size(3)}), w);
  return mean(cols, 0).reshape({x.size(0), x.size(1), geom.out_h, geom.out_w});
}

}  // namespace facet
