#include "losses/margin_logits.h"

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet::nn {

Tensor margin_target(const Tensor& cos, const MarginSpec& spec) {
  const Tensor out = ops::margin_target(cos, spec, false);
  return record("MarginTargetBackward", out, {cos}, [x = ops::alias(cos), spec](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::binary(BinaryOp::Mul, g, ops::margin_target(x, spec, true))};
  });
}

Tensor apply_margin(const Tensor& cos, const Tensor& labels, const MarginSpec& spec) {
  FACET_CHECK(cos.dim() == 2, "apply_margin", "cos [batch, classes]", cos.describe());
  ops::check_labels("apply_margin", labels, cos.size(0), cos.size(1), cos.device());
  const Tensor index = labels.unsqueeze(1);
  const Tensor target = gather(cos, 1, index);
  const Tensor shifted = scatter_add(cos, 1, index, margin_target(target, spec) - target);
  return spec.scale == 1.0 ? shifted : shifted * spec.scale;
}

}  // namespace facet::nn
