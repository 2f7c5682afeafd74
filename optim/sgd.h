#pragma once
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace facet::optim {

struct SGDOptions {
  explicit SGDOptions(double lr) : lr_(lr) {}
  SGDOptions& momentum(double v) { momentum_ = v; return *this; }
  SGDOptions& dampening(double v) { dampening_ = v; return *this; }
  SGDOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  SGDOptions& nesterov(bool v) { nesterov_ = v; return *this; }
  // The learning rate also lives in a one-element tensor on the parameters' device, which the
  // update reads there and set_lr refills: a step captured in a CUDA graph then follows the
  // schedule (torch.optim's `capturable`). Only a capturable SGD steps inside a capture.
  SGDOptions& capturable(bool v) { capturable_ = v; return *this; }
  double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false, capturable_ = false;
};

// torch.optim.SGD's update, step by step:
//   g = grad + weight_decay * p
//   b = g on the first step, else momentum * b + (1 - dampening) * g      (when momentum != 0)
//   g = g + momentum * b (nesterov) or b
//   p = p - lr * g
class SGD : public OptimizerWithOptions<SGDOptions> {
 public:
  SGD(std::vector<Group> groups);
  SGD(std::vector<std::vector<Tensor>> param_lists, const SGDOptions& options);
  SGD(std::vector<Tensor> params, const SGDOptions& options) : SGD(std::vector<std::vector<Tensor>>{std::move(params)}, options) {}
  // Inside a CUDA graph capture: refused unless capturable, and before the momentum buffers exist
  // (a captured first step would restart the momentum on every replay). Take a step eagerly first.
  void step() override;
  // With capturable, also refills the group's device rate (refused inside a capture, where the
  // fill would be recorded with this value for good).
  void set_lr(size_t group, double lr) override;

 protected:
  std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }

 private:
  // The group's rate as a float64 scalar on `device`, made (outside a capture) the first time
  // a parameter there steps.
  Tensor lr_on(size_t group, Device device);
  // Per group, one per device its parameters live on (a model split over GPUs), for capturable
  // groups once they step.
  std::vector<std::vector<Tensor>> device_lrs_;
};

}  // namespace facet::optim
