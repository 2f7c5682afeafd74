#include "optim/sgd.h"

#include "autograd/grad_mode.h"
#include "core/ops.h"

namespace facet::optim {

namespace {

void check(const SGDOptions& o) {
  FACET_CHECK(o.lr_ >= 0 && o.momentum_ >= 0 && o.weight_decay_ >= 0, "SGD",
              "lr, momentum and weight_decay >= 0",
              "lr " + std::to_string(o.lr_) + ", momentum " + std::to_string(o.momentum_) + ", weight_decay " +
                  std::to_string(o.weight_decay_));
  FACET_CHECK(!o.nesterov_ || (o.momentum_ > 0 && o.dampening_ == 0), "SGD",
              "momentum > 0 and dampening 0 for nesterov (as PyTorch requires)",
              "momentum " + std::to_string(o.momentum_) + ", dampening " + std::to_string(o.dampening_));
}

}  // namespace

SGD::SGD(std::vector<Group> groups) : OptimizerWithOptions(std::move(groups), "SGD", check) {}

SGD::SGD(std::vector<std::vector<Tensor>> param_lists, const SGDOptions& options)
    : OptimizerWithOptions(std::move(param_lists), options, "SGD", check) {}

void SGD::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < num_param_groups(); ++g) {
    const SGDOptions& o = options_[g];
    const std::vector<Tensor>& ps = params(g);
    for (size_t i = 0; i < ps.size(); ++i) {
      Tensor p = ps[i];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (o.weight_decay_ != 0) grad = ops::binary(BinaryOp::Add, grad, ops::binary(BinaryOp::Mul, p, o.weight_decay_));
      if (o.momentum_ != 0) {
        if (!has_state(g, i, "momentum_buffer")) {  // the first step: the buffer starts as the gradient
          state(g, i, "momentum_buffer", ops::clone(grad));
        } else {
          Tensor& buf = state(g, i, "momentum_buffer");
          buf = ops::binary(BinaryOp::Add, ops::binary(BinaryOp::Mul, buf, o.momentum_),
                            ops::binary(BinaryOp::Mul, grad, 1.0 - o.dampening_));
        }
        const Tensor& buf = state(g, i, "momentum_buffer");
        grad = o.nesterov_ ? ops::binary(BinaryOp::Add, grad, ops::binary(BinaryOp::Mul, buf, o.momentum_)) : buf;
      }
      p.add_(grad, -o.lr_);
    }
  }
}

}  // namespace facet::optim
