// Front door of the fused SGD update: checks the operands, then one kernel per parameter.
#include <cmath>

#include "core/ops.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

void check_like_param(const char* op, const Tensor& param, const Tensor& t, const char* name) {
  check_defined(op, t, name);
  check_same_dtype(op, param, t);
  check_same_device(op, param, t);
  FACET_CHECK(t.shape() == param.shape(), op, std::string(name) + " shaped like the parameter " + param.describe(),
              t.describe());
}

}  // namespace

void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdStep& step,
              const Tensor& lr) {
  const char* op = "sgd step";
  const bool finite = std::isfinite(step.lr) && std::isfinite(step.weight_decay) && std::isfinite(step.momentum) &&
                      std::isfinite(step.dampening);
  FACET_CHECK(finite && !(step.nesterov && step.momentum == 0), op,
              "finite lr, weight_decay, momentum and dampening, and momentum with nesterov",
              "lr " + std::to_string(step.lr) + ", weight_decay " + std::to_string(step.weight_decay) + ", momentum " +
                  std::to_string(step.momentum) + ", dampening " + std::to_string(step.dampening) +
                  (step.nesterov ? ", nesterov" : ""));
  check_defined(op, param, "the parameter");
  check_floating(op, param);
  FACET_CHECK(param.is_contiguous(), op, "a contiguous parameter (it is updated in place)", param.describe());
  check_like_param(op, param, grad, "a gradient");
  FACET_CHECK(momentum_buffer.defined() == (step.momentum != 0), op,
              step.momentum != 0 ? "a momentum buffer (momentum is on)" : "no momentum buffer (momentum is 0)",
              momentum_buffer.defined() ? momentum_buffer.describe() : std::string("none"));
  if (momentum_buffer.defined()) {
    check_like_param(op, param, momentum_buffer, "a momentum buffer");
    FACET_CHECK(momentum_buffer.is_contiguous(), op, "a contiguous momentum buffer", momentum_buffer.describe());
  }
  SgdStep s = step;
  s.lr_in_memory = nullptr;
  if (lr.defined()) {
    check_same_device(op, param, lr);
    FACET_CHECK(lr.dtype() == kFloat64 && lr.numel() == 1, op, "a one-element float64 learning-rate tensor",
                lr.describe());
    s.lr_in_memory = lr.data<double>();
  }
  const Tensor g = contiguous(grad);
  FACET_DISPATCH(op, param, sgd_step, param, g, momentum_buffer, s);
}

}  // namespace facet::ops
