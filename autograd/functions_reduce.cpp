// Differentiable reductions: the gradient of a sum is the output gradient broadcast back over
// the reduced dims; of a max it lands on the first maximal element (via scatter_add).
#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

namespace {

// Broadcasts g (reduced along dim, with or without keepdim) back to `shape`, scaled.
Tensor spread(const Tensor& g, const Shape& shape, int64_t dim, bool keepdim, double scale) {
  Tensor gk = keepdim ? g : ops::unsqueeze(g, dim);
  if (scale != 1.0) gk = ops::binary(BinaryOp::Mul, gk, scale);
  return ops::expand(gk, shape);
}

}  // namespace

Tensor sum(const Tensor& x) {
  return record("SumBackward", ops::sum(x), {x}, [shape = x.shape()](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::expand(g, shape)};
  });
}

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  const Tensor out = ops::sum(x, dim, keepdim);
  dim = wrap_dim("sum", dim, x.dim());
  return record("SumBackward", out, {x}, [shape = x.shape(), dim, keepdim](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{shape.empty() ? g : spread(g, shape, dim, keepdim, 1.0)};
  });
}

Tensor mean(const Tensor& x) {
  return record("MeanBackward", ops::mean(x), {x}, [shape = x.shape()](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{
        ops::expand(ops::binary(BinaryOp::Div, g, static_cast<double>(numel_of(shape))), shape)};
  });
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  const Tensor out = ops::mean(x, dim, keepdim);
  dim = wrap_dim("mean", dim, x.dim());
  return record("MeanBackward", out, {x}, [shape = x.shape(), dim, keepdim](const Tensor& g, const NeedsGrad&) {
    if (shape.empty()) return std::vector<Tensor>{g};
    return std::vector<Tensor>{spread(g, shape, dim, keepdim, 1.0 / static_cast<double>(shape[dim]))};
  });
}

Tensor max(const Tensor& x) {
  return record("MaxBackward", ops::max(x), {x}, [x = ops::alias(x)](const Tensor& g, const NeedsGrad&) {
    const Tensor index = ops::reshape(ops::argmax(x), {1});
    const Tensor flat = ops::scatter_add(zeros({x.numel()}, x.dtype(), x.device()), 0, index, ops::reshape(g, {1}));
    return std::vector<Tensor>{ops::reshape(flat, x.shape())};
  });
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  const Tensor out = ops::max(x, dim, keepdim);
  dim = wrap_dim("max", dim, x.dim());
  return record("MaxBackward", out, {x}, [x = ops::alias(x), dim, keepdim](const Tensor& g, const NeedsGrad&) {
    if (x.dim() == 0) return std::vector<Tensor>{g};
    const Tensor index = ops::argmax(x, dim, true);
    const Tensor gk = keepdim ? g : ops::unsqueeze(g, dim);
    return std::vector<Tensor>{ops::scatter_add(zeros_like(x), dim, index, ops::contiguous(gk))};
  });
}

Tensor argmax(const Tensor& x) { return ops::argmax(x); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return ops::argmax(x, dim, keepdim); }

}  // namespace facet
