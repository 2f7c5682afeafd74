// Tensor's math methods (the differentiable functions, spelled as methods) and its in-place
// updates (graph-free, for optimizers and initializers).
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "core/ops.h"

namespace facet {

Tensor Tensor::sum() const { return facet::sum(*this); }
Tensor Tensor::sum(int64_t dim, bool keepdim) const { return facet::sum(*this, dim, keepdim); }
Tensor Tensor::mean() const { return facet::mean(*this); }
Tensor Tensor::mean(int64_t dim, bool keepdim) const { return facet::mean(*this, dim, keepdim); }
Tensor Tensor::max() const { return facet::max(*this); }
Tensor Tensor::max(int64_t dim, bool keepdim) const { return facet::max(*this, dim, keepdim); }
Tensor Tensor::argmax() const { return facet::argmax(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return facet::argmax(*this, dim, keepdim); }
Tensor Tensor::exp() const { return facet::exp(*this); }
Tensor Tensor::log() const { return facet::log(*this); }
Tensor Tensor::sqrt() const { return facet::sqrt(*this); }
Tensor Tensor::abs() const { return facet::abs(*this); }
Tensor Tensor::relu() const { return facet::relu(*this); }
Tensor Tensor::sigmoid() const { return facet::sigmoid(*this); }
Tensor Tensor::tanh() const { return facet::tanh(*this); }
Tensor Tensor::pow(double exponent) const { return facet::pow(*this, exponent); }
Tensor Tensor::clamp(double lo, double hi) const { return facet::clamp(*this, lo, hi); }
Tensor Tensor::matmul(const Tensor& other) const { return facet::matmul(*this, other); }
Tensor Tensor::softmax(int64_t dim) const { return facet::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return facet::log_softmax(*this, dim); }

namespace {

// An in-place write bypasses the graph, so it is refused where the graph would miss it.
void check_in_place(const char* op, const Tensor& t) {
  FACET_CHECK(!(GradMode::is_enabled() && t.requires_grad()), op,
              "a tensor that needs no grad, or a NoGradGuard around the update", t.describe() + " that requires grad");
}

}  // namespace

Tensor& Tensor::fill_(double value) {
  check_in_place("fill_", *this);
  ops::fill_(*this, value);
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_in_place("copy_", *this);
  ops::copy_(*this, src);
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_in_place("add_", *this);
  FACET_CHECK(other.defined() && broadcast_shapes("add_", shape(), other.shape()) == shape(), "add_",
              "an operand that broadcasts to " + describe(), other.describe());
  const Tensor scaled = alpha == 1.0 ? other : ops::binary(BinaryOp::Mul, other, alpha);
  ops::copy_(*this, ops::binary(BinaryOp::Add, *this, scaled));
  return *this;
}

Tensor& Tensor::mul_(double factor) {
  check_in_place("mul_", *this);
  ops::copy_(*this, ops::binary(BinaryOp::Mul, *this, factor));
  return *this;
}

}  // namespace facet
