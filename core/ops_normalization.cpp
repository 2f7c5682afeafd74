// Front door of softmax, log_softmax and L2 normalize along a dim.
#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

Tensor softmax_impl(const char* name, const Tensor& x, int64_t dim, bool log) {
  check_defined(name, x, "the input");
  check_floating(name, x);
  dim = wrap_dim(name, dim, x.dim());
  const DimSplit s = split_at(x.shape(), dim);
  const Tensor xc = contiguous(x);
  Tensor out = output(name, x.shape(), x.dtype(), x.device());
  FACET_DISPATCH(name, x, softmax, xc, s.outer, s.n, s.inner, log, out);
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl("log_softmax", x, dim, true); }

Tensor normalize(const Tensor& x, int64_t dim, double eps) {
  check_defined("normalize", x, "the input");
  check_floating("normalize", x);
  FACET_CHECK(eps > 0, "normalize", "eps > 0", "eps " + std::to_string(eps));
  dim = wrap_dim("normalize", dim, x.dim());
  const DimSplit s = split_at(x.shape(), dim);
  const Tensor xc = contiguous(x);
  Tensor out = output("normalize", x.shape(), x.dtype(), x.device());
  FACET_DISPATCH("normalize", x, normalize, xc, s.outer, s.n, s.inner, eps, out);
  return out;
}

Tensor normalize_backward(const Tensor& x, const Tensor& grad, int64_t dim, double eps) {
  const char* op = "normalize backward";
  check_defined(op, x, "the input");
  check_defined(op, grad, "the gradient");
  check_floating(op, x);
  check_same_device(op, x, grad);
  FACET_CHECK(grad.shape() == x.shape(), op, "a gradient shaped like the input " + x.describe(), grad.describe());
  FACET_CHECK(eps > 0, op, "eps > 0", "eps " + std::to_string(eps));
  dim = wrap_dim(op, dim, x.dim());
  const DimSplit s = split_at(x.shape(), dim);
  const Tensor xc = contiguous(x), gc = contiguous(grad.dtype() == x.dtype() ? grad : cast(grad, x.dtype()));
  Tensor out = output(op, x.shape(), x.dtype(), x.device());
  FACET_DISPATCH(op, x, normalize_backward, xc, gc, s.outer, s.n, s.inner, eps, out);
  return out;
}

}  // namespace facet::ops
