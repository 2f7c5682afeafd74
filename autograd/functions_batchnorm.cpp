// Differentiable training-mode batch normalization with the fused kernels: one node whose
// backward is the two-pass kernel (core/batchnorm_math.h), instead of a graph of a dozen ops.
#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet {

Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* batch_mean,
                        Tensor* batch_var) {
  const auto [mean, var] = ops::batch_norm_stats(x);
  if (batch_mean) *batch_mean = mean;
  if (batch_var) *batch_var = var;
  const Tensor out = ops::batch_norm_apply(x, mean, var, weight, bias, eps);
  return record("BatchNormBackward", out, {x, weight, bias},
                [x = ops::alias(x), w = weight.defined() ? ops::alias(weight) : Tensor(), mean = mean, var = var, eps](
                    const Tensor& g, const NeedsGrad& needs) {
                  const auto grads = ops::batch_norm_backward(g, x, mean, var, w, eps, {needs[0], needs[1], needs[2]});
                  return std::vector<Tensor>{grads[0], grads[1], grads[2]};
                });
}

}  // namespace facet
