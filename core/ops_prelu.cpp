// Front door of PReLU: y = x > 0 ? x : a * x with a per channel (dim 1) or one shared slope.
// The CPU runs the fused kernels of cpu/prelu.cpp; other devices compose elementwise ops with
// the same per-element result.
#include "core/factory.h"
#include "core/ops_common.h"
#include "cpu/prelu.h"

namespace facet::ops {

using namespace detail;

namespace {

// [outer, channels, inner] of x for slope; checks shapes, dtypes and devices.
DimSplit check_prelu(const char* op, const Tensor& x, const Tensor& slope) {
  check_defined(op, x, "the input");
  check_floating(op, x);
  FACET_CHECK(slope.defined() && slope.dim() == 1, op, "a 1-d weight", slope.describe());
  check_same_dtype(op, x, slope);
  check_same_device(op, x, slope);
  if (slope.size(0) == 1) return DimSplit{1, 1, x.numel()};
  FACET_CHECK(x.dim() >= 2 && x.size(1) == slope.size(0), op,
              "an input with " + std::to_string(slope.size(0)) + " channels in dim 1", x.describe());
  return split_at(x.shape(), 1);
}

Tensor slope_view(const Tensor& x, const Tensor& slope) {
  if (slope.size(0) == 1) return slope.dim() == 0 ? slope : reshape(slope, {});
  Shape view(static_cast<size_t>(x.dim()), 1);
  view[1] = slope.size(0);
  return reshape(slope, view);
}

}  // namespace

Tensor prelu(const Tensor& x, const Tensor& slope) {
  const DimSplit s = check_prelu("prelu", x, slope);
  const Tensor xc = contiguous(x), sc = contiguous(slope);
  if (x.device().is_cpu()) {
    Tensor out = output("prelu", x.shape(), x.dtype(), x.device());
    cpu::prelu(xc, sc, s.outer, s.n, s.inner, out);
    return out;
  }
  return where(binary(BinaryOp::Gt, xc, 0.0), xc, binary(BinaryOp::Mul, xc, slope_view(x, sc)));
}

std::pair<Tensor, Tensor> prelu_backward(const Tensor& grad, const Tensor& x, const Tensor& slope, bool needs_x) {
  const char* op = "prelu backward";
  const DimSplit s = check_prelu(op, x, slope);
  FACET_CHECK(grad.defined() && grad.shape() == x.shape(), op, "an output gradient of shape " + shape_str(x.shape()),
              grad.describe());
  check_same_dtype(op, grad, x);
  check_same_device(op, grad, x);
  const Tensor gc = contiguous(grad), xc = contiguous(x), sc = contiguous(slope);
  if (x.device().is_cpu()) {
    Tensor gx = needs_x ? output(op, x.shape(), x.dtype(), x.device()) : Tensor();
    Tensor gs = output(op, slope.shape(), x.dtype(), x.device());
    cpu::prelu_backward(gc, xc, sc, s.outer, s.n, s.inner, gx, gs);
    return {gx, gs};
  }
  const Tensor positive = binary(BinaryOp::Gt, xc, 0.0);
  const Tensor gx = needs_x ? where(positive, gc, binary(BinaryOp::Mul, gc, slope_view(x, sc))) : Tensor();
  const Tensor gxs = where(positive, zeros_like(gc), binary(BinaryOp::Mul, gc, xc));
  const Tensor gs = slope.size(0) == 1 ? reshape(sum(gxs), {1}) : reshape(sum_to(gxs, slope_view(x, sc).shape()), slope.shape());
  return {gx, gs};
}

}  // namespace facet::ops
