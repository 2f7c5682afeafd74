#include "optim/adam.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"
#include "cuda/graph.h"

namespace facet::optim {

namespace {

void check(const AdamOptions& o) {
  FACET_CHECK(o.lr_ >= 0 && o.eps_ >= 0 && o.weight_decay_ >= 0, "Adam", "lr, eps and weight_decay >= 0",
              "lr " + std::to_string(o.lr_) + ", eps " + std::to_string(o.eps_) + ", weight_decay " +
                  std::to_string(o.weight_decay_));
  FACET_CHECK(o.beta1_ >= 0 && o.beta1_ < 1 && o.beta2_ >= 0 && o.beta2_ < 1, "Adam", "betas in [0, 1)",
              std::to_string(o.beta1_) + ", " + std::to_string(o.beta2_));
}

Tensor mul(const Tensor& a, double b) { return ops::binary(BinaryOp::Mul, a, b); }
Tensor add(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Add, a, b); }

}  // namespace

Adam::Adam(std::vector<Group> groups, bool decoupled)
    : OptimizerWithOptions(std::move(groups), "Adam", check), decoupled_(decoupled) {}

Adam::Adam(std::vector<std::vector<Tensor>> param_lists, const AdamOptions& options, bool decoupled)
    : OptimizerWithOptions(std::move(param_lists), options, "Adam", check), decoupled_(decoupled) {}

void Adam::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < num_param_groups(); ++g) {
    const AdamOptions& o = options_[g];
    const std::vector<Tensor>& ps = params(g);
    for (size_t i = 0; i < ps.size(); ++i) {
      Tensor p = ps[i];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      FACET_CHECK(!cuda::is_capturing(p.device()), "Adam step",
                  "an eager step: Adam's step count and bias corrections live on the host, so a CUDA graph cannot hold it",
                  "a step inside the capture on " + p.device().str() + " (use a capturable SGD there)");
      // The step count is a one-element float64 tensor on the host, so it saves with the rest of the state.
      Tensor& count = has_state(g, i, "step") ? state(g, i, "step") : state(g, i, "step", zeros({1}, kFloat64));
      const double t = count.item<double>() + 1;
      count = full({1}, t, kFloat64);

      if (o.weight_decay_ != 0) {
        if (decoupled_) p.mul_(1.0 - o.lr_ * o.weight_decay_);
        else grad = add(grad, mul(p, o.weight_decay_));
      }
      Tensor& m = state(g, i, "exp_avg");
      Tensor& v = state(g, i, "exp_avg_sq");
      m = add(mul(m, o.beta1_), mul(grad, 1.0 - o.beta1_));
      v = add(mul(v, o.beta2_), mul(ops::binary(BinaryOp::Mul, grad, grad), 1.0 - o.beta2_));
      const double bias1 = 1.0 - std::pow(o.beta1_, t), bias2 = 1.0 - std::pow(o.beta2_, t);
      const Tensor denom = ops::binary(BinaryOp::Add, mul(ops::unary(UnaryOp::Sqrt, v), 1.0 / std::sqrt(bias2)), o.eps_);
      p.add_(ops::binary(BinaryOp::Div, m, denom), -o.lr_ / bias1);
    }
  }
}

}  // namespace facet::optim
