#include "optim/sgd.h"

#include "autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"
#include "cuda/graph.h"

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

SGD::SGD(std::vector<Group> groups)
    : OptimizerWithOptions(std::move(groups), "SGD", check), device_lrs_(num_param_groups()) {}

SGD::SGD(std::vector<std::vector<Tensor>> param_lists, const SGDOptions& options)
    : OptimizerWithOptions(std::move(param_lists), options, "SGD", check), device_lrs_(num_param_groups()) {}

void SGD::set_lr(size_t group, double lr) {
  std::vector<Tensor>& on_devices = device_lrs_.at(group);
  // Refused before anything changes, so the host's rate and the devices' never disagree.
  for (const Tensor& on_device : on_devices)
    FACET_CHECK(!cuda::is_capturing(on_device.device()), "SGD set_lr",
                "a learning rate set outside the CUDA graph capture",
                "a call inside the capture on " + on_device.device().str() + " (it would keep this rate for every replay)");
  OptimizerWithOptions::set_lr(group, lr);
  for (Tensor& on_device : on_devices) on_device.fill_(lr);
}

Tensor SGD::lr_on(size_t group, Device device) {
  std::vector<Tensor>& on_devices = device_lrs_[group];
  for (const Tensor& on_device : on_devices)
    if (on_device.device() == device) return on_device;
  FACET_CHECK(!cuda::is_capturing(device), "SGD step", "a capturable SGD's first step taken before the CUDA graph capture",
              "its first step inside it (the rate would be captured with this value for good)");
  on_devices.push_back(full({}, options_[group].lr_, kFloat64, device));
  return on_devices.back();
}

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
      const bool in_capture = cuda::is_capturing(p.device());
      FACET_CHECK(!in_capture || o.capturable_, "SGD step", "SGDOptions::capturable(true) to step inside a CUDA graph capture",
                  "a plain SGD (every replay would keep the captured learning rate)");
      SgdStep s{o.lr_, o.weight_decay_, o.momentum_, o.dampening_, o.nesterov_, false};
      Tensor buffer;
      if (o.momentum_ != 0) {
        s.first = !has_state(g, i, "momentum_buffer");
        FACET_CHECK(!(in_capture && s.first), "SGD step", "momentum buffers made by an eager step before the CUDA graph capture",
                    "a first step inside it (every replay would restart the momentum)");
        buffer = state(g, i, "momentum_buffer");  // zeros when new; the first step overwrites them
      }
      const Tensor lr = o.capturable_ ? lr_on(g, p.device()) : Tensor();
      if (p.is_contiguous()) {
        ops::sgd_step(p, grad, buffer, s, lr);
      } else {  // updated through a contiguous copy
        const Tensor copy = ops::contiguous(p);
        ops::sgd_step(copy, grad, buffer, s, lr);
        ops::copy_(p, copy);
      }
    }
  }
}

}  // namespace facet::optim
