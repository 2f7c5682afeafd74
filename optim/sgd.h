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
  double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false;
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
  void step() override;

 protected:
  std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
};

}  // namespace facet::optim
