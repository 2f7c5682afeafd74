#include "losses/cross_entropy.h"

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet::nn {

namespace {

Tensor reduce(const Tensor& rows, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(rows);
    case Reduction::Sum: return sum(rows);
    case Reduction::None: break;
  }
  return rows;
}

}  // namespace

Tensor margin_cross_entropy(const Tensor& cos, const Tensor& labels, const MarginSpec& spec, Reduction reduction,
                            double label_smoothing) {
  auto [rows, lse] = ops::margin_cross_entropy(cos, labels, spec, label_smoothing);
  rows = record("MarginCrossEntropyBackward", rows, {cos},
                [x = ops::alias(cos), labels = ops::alias(labels), lse, spec, label_smoothing](const Tensor& g,
                                                                                            const NeedsGrad&) {
                  return std::vector<Tensor>{ops::margin_cross_entropy_backward(g, x, labels, lse, spec, label_smoothing)};
                });
  return reduce(rows, reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, Reduction reduction, double label_smoothing) {
  return margin_cross_entropy(logits, labels, margin_none(), reduction, label_smoothing);
}

}  // namespace facet::nn
