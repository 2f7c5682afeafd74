// Front door of the sliding-window ops (im2col, col2im, max pooling): the window geometry is
// checked and computed here once, with PyTorch's output-size formula.
#include "core/factory.h"
#include "core/ops_common.h"
#include "cpu/conv.h"
#include "cuda/conv.h"

namespace facet::ops {

using namespace detail;

WindowGeometry window_geometry(const char* op, const Shape& input, const Window& w) {
  FACET_CHECK(input.size() == 4, op, "an input [N, C, H, W]", shape_str(input));
  FACET_CHECK(w.kernel[0] > 0 && w.kernel[1] > 0 && w.stride[0] > 0 && w.stride[1] > 0 && w.dilation[0] > 0 &&
                  w.dilation[1] > 0 && w.padding[0] >= 0 && w.padding[1] >= 0,
              op, "positive kernel, stride and dilation and non-negative padding",
              "kernel " + shape_str({w.kernel[0], w.kernel[1]}) + ", stride " + shape_str({w.stride[0], w.stride[1]}) +
                  ", padding " + shape_str({w.padding[0], w.padding[1]}) + ", dilation " +
                  shape_str({w.dilation[0], w.dilation[1]}));
  WindowGeometry g{input[1], input[2], input[3], w.kernel[0], w.kernel[1], w.stride[0], w.stride[1],
                   w.padding[0], w.padding[1], w.dilation[0], w.dilation[1], 0, 0};
  const int64_t span_h = w.dilation[0] * (w.kernel[0] - 1) + 1, span_w = w.dilation[1] * (w.kernel[1] - 1) + 1;
  FACET_CHECK(g.height + 2 * g.pad_h >= span_h && g.width + 2 * g.pad_w >= span_w, op,
              "a padded input at least as large as the (dilated) kernel " + shape_str({span_h, span_w}),
              "input " + shape_str(input) + " with padding " + shape_str({g.pad_h, g.pad_w}));
  g.out_h = (g.height + 2 * g.pad_h - span_h) / g.stride_h + 1;
  g.out_w = (g.width + 2 * g.pad_w - span_w) / g.stride_w + 1;
  return g;
}

Tensor im2col(const Tensor& x, const Window& w) {
  check_defined("im2col", x, "the input");
  check_floating("im2col", x);
  const WindowGeometry g = window_geometry("im2col", x.shape(), w);
  Tensor cols = output("im2col", {g.rows(), x.size(0), g.cols()}, x.dtype(), x.device());
  const Tensor xc = contiguous(x);
  FACET_DISPATCH("im2col", x, im2col, xc, g, cols);
  return cols;
}

Tensor col2im(const Tensor& cols, const Shape& input_shape, const Window& w) {
  check_defined("col2im", cols, "the columns");
  check_floating("col2im", cols);
  const WindowGeometry g = window_geometry("col2im", input_shape, w);
  const Shape want{g.rows(), input_shape[0], g.cols()};
  FACET_CHECK(cols.shape() == want, "col2im", "columns of shape " + shape_str(want), cols.describe());
  Tensor x = output("col2im", input_shape, cols.dtype(), cols.device());
  const Tensor cc = contiguous(cols);
  FACET_DISPATCH("col2im", cols, col2im, cc, g, x);
  return x;
}

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const Window& w) {
  check_defined("max_pool2d", x, "the input");
  check_floating("max_pool2d", x);
  const WindowGeometry g = window_geometry("max_pool2d", x.shape(), w);
  FACET_CHECK(2 * w.padding[0] <= w.kernel[0] && 2 * w.padding[1] <= w.kernel[1], "max_pool2d",
              "padding at most half the kernel (as PyTorch requires)",
              "padding " + shape_str({w.padding[0], w.padding[1]}) + " for kernel " + shape_str({w.kernel[0], w.kernel[1]}));
  // With dilation, a window can fall wholly in the padding even so: it would have no maximum.
  const auto covered = [](int64_t out, int64_t size, int64_t k, int64_t s, int64_t p, int64_t d) {
    for (int64_t o = 0; o < out; ++o) {
      bool any = false;
      for (int64_t i = 0; i < k && !any; ++i) any = o * s - p + i * d >= 0 && o * s - p + i * d < size;
      if (!any) return false;
    }
    return true;
  };
  FACET_CHECK(covered(g.out_h, g.height, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h) &&
                  covered(g.out_w, g.width, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w),
              "max_pool2d", "every window to cover at least one input element",
              "a window wholly in the padding for input " + x.describe());
  const Shape shape{x.size(0), g.channels, g.out_h, g.out_w};
  Tensor out = output("max_pool2d", shape, x.dtype(), x.device());
  Tensor indices = output("max_pool2d", shape, kInt64, x.device());
  const Tensor xc = contiguous(x);
  FACET_DISPATCH("max_pool2d", x, max_pool2d, xc, g, out, indices);
  return {out, indices};
}

Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape, const Window& w) {
  const char* op = "max_pool2d backward";
  check_defined(op, grad, "the output gradient");
  check_floating(op, grad);
  const WindowGeometry g = window_geometry(op, input_shape, w);
  const Shape out_shape{input_shape[0], input_shape[1], g.out_h, g.out_w};
  FACET_CHECK(grad.shape() == out_shape && indices.shape() == out_shape && indices.dtype() == kInt64, op,
              "an output gradient and int64 indices " + shape_str(out_shape) + " for input " + shape_str(input_shape),
              "gradient " + grad.describe() + ", indices " + indices.describe());
  check_same_device(op, grad, indices);
  const Tensor gc = contiguous(grad), ic = contiguous(indices);
  Tensor out = output(op, input_shape, grad.dtype(), grad.device());
  if (grad.device().is_cpu()) {
    // The CPU's scatter writes where each index points: it skips one outside its channel's plane
    // (another plane, another thread's, or outside the tensor) and names the first. (The GPU's
    // gather only reads the indices, and one that is not its window's never matches.)
    const int64_t bad = cpu::max_pool2d_backward(gc, ic, out);
    FACET_CHECK(bad < 0, op, "indices from max_pool2d (each inside its channel's plane of the image)",
                "index " + std::to_string(bad < 0 ? 0 : ic.data<int64_t>()[bad]) + " at output " + std::to_string(bad) +
                    " of " + indices.describe());
  } else {
    cuda::max_pool2d_backward(gc, ic, g, out);
  }
  return out;
}

}  // namespace facet::ops
