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

// One fused kernel per parameter (ops::sgd_step) instead of up to ten elementwise ops; the result
// is the same bit for bit (tests/test_optim.cpp).
void SGD::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < num_param_groups(); ++g) {
    const SGDOptions& o = options_[g];
    const std::vector<Tensor>& ps = params(g);
    for (size_t i = 0; i < ps.size(); ++i) {
      const Tensor& p = ps[i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      SgdStep s{o.lr_, o.weight_decay_, o.momentum_, o.dampening_, o.nesterov_, false};
      Tensor buffer;
      if (o.momentum_ != 0) {
        s.first = !has_state(g, i, "momentum_buffer");
        buffer = state(g, i, "momentum_buffer");  // zeros when new; the first step overwrites them
      }
      if (p.is_contiguous()) {
        ops::sgd_step(p, grad, buffer, s);
      } else {  // updated through a contiguous copy
        const Tensor copy = ops::contiguous(p);
        ops::sgd_step(copy, grad, buffer, s);
        ops::copy_(p, copy);
      }
    }
  }
}

}  // namespace facet::optim
