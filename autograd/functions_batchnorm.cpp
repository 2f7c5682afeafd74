// Differentiable training-mode batch normalization with the fused kernels: one node whose
// backward is the two-pass kernel (core/batchnorm_math.h), instead of a graph of a dozen ops;
// with a PReLU slope the activation is in the same node and the same passes.
#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet {

namespace {
Tensor alias_or_none(const Tensor& t) { return t.defined() ? ops::alias(t) : Tensor(); }
}  // namespace

Tensor batch_norm_prelu_train(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& slope,
                              double eps, Tensor* batch_mean, Tensor* batch_var) {
  const auto [mean, var] = ops::batch_norm_stats(x);
  if (batch_mean) *batch_mean = mean;
  if (batch_var) *batch_var = var;
  const Tensor out = ops::batch_norm_prelu_apply(x, mean, var, weight, bias, slope, eps);
  return record("BatchNormPReluBackward", out, {x, weight, bias, slope},
                [x = ops::alias(x), w = alias_or_none(weight), b = alias_or_none(bias), a = alias_or_none(slope),
                 mean = mean, var = var, eps](const Tensor& g, const NeedsGrad& needs) {
                  const auto grads = ops::batch_norm_prelu_backward(g, x, mean, var, w, b, a, eps,
                                                                    {needs[0], needs[1], needs[2], needs[3]});
                  return std::vector<Tensor>{grads[0], grads[1], grads[2], grads[3]};
                });
}

Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* batch_mean,
                        Tensor* batch_var) {
  return batch_norm_prelu_train(x, weight, bias, Tensor(), eps, batch_mean, batch_var);
}

}  // namespace facet
