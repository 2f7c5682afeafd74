// Differentiable softmax, log_softmax and L2 normalize along a dim.
//   softmax:      dx = y * (g - sum(g * y))
//   log_softmax:  dx = g - exp(y) * sum(g)
//   normalize:    y = x / max(|x|, eps); dx = (g - y * sum(g * y)) / |x| where |x| > eps, else g / eps
//                 (one fused kernel: ops::normalize_backward)
#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet {

namespace {
Tensor times(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Mul, a, b); }
Tensor minus(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Sub, a, b); }
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  const Tensor out = ops::softmax(x, dim);
  return record("SoftmaxBackward", out, {x}, [y = ops::alias(out), dim](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{times(y, minus(g, ops::sum(times(g, y), dim, true)))};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  const Tensor out = ops::log_softmax(x, dim);
  return record("LogSoftmaxBackward", out, {x}, [y = ops::alias(out), dim](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{minus(g, times(ops::unary(UnaryOp::Exp, y), ops::sum(g, dim, true)))};
  });
}

Tensor normalize(const Tensor& x, int64_t dim, double eps) {
  const Tensor out = ops::normalize(x, dim, eps);
  return record("NormalizeBackward", out, {x}, [x = ops::alias(x), dim, eps](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::normalize_backward(x, g, dim, eps)};
  });
}

}  // namespace facet
