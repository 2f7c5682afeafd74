#pragma once
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace facet::optim {

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  AdamOptions& betas(double beta1, double beta2) { beta1_ = beta1; beta2_ = beta2; return *this; }
  AdamOptions& eps(double v) { eps_ = v; return *this; }
  AdamOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
};

// torch.optim.Adam (decoupled = false) and AdamW (decoupled = true), step t = 1, 2, ...:
//   Adam:  g = grad + weight_decay * p          AdamW:  p = p * (1 - lr * weight_decay), g = grad
//   m = beta1 * m + (1 - beta1) * g,   v = beta2 * v + (1 - beta2) * g^2
//   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
class Adam : public OptimizerWithOptions<AdamOptions> {
 public:
  Adam(std::vector<Group> groups, bool decoupled = false);
  Adam(std::vector<std::vector<Tensor>> param_lists, const AdamOptions& options, bool decoupled = false);
  Adam(std::vector<Tensor> params, const AdamOptions& options)
      : Adam(std::vector<std::vector<Tensor>>{std::move(params)}, options) {}
  void step() override;

 protected:
  std::vector<std::string> state_names() const override { return {"step", "exp_avg", "exp_avg_sq"}; }

 private:
  bool decoupled_;
};

// PyTorch's AdamW defaults: AdamOptions with weight_decay 1e-2 (plain AdamOptions means 0).
inline AdamOptions AdamWOptions(double lr = 1e-3) { return AdamOptions(lr).weight_decay(1e-2); }

// AdamW: Adam with decoupled weight decay; pass AdamWOptions(lr) for PyTorch's defaults.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Group> groups) : Adam(std::move(groups), true) {}
  AdamW(std::vector<std::vector<Tensor>> param_lists, const AdamOptions& options) : Adam(std::move(param_lists), options, true) {}
  AdamW(std::vector<Tensor> params, const AdamOptions& options)
      : Adam(std::vector<std::vector<Tensor>>{std::move(params)}, options, true) {}
};

}  // namespace facet::optim
