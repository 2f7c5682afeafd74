#include "layers/sequential.h"

namespace facet::nn {

Tensor SequentialImpl::forward(const Tensor& x) const {
  Tensor y = x;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    const PReLUImpl* next = i + 1 < steps_.size() ? steps_[i + 1].prelu.get() : nullptr;
    const int64_t slopes = next ? next->weight.numel() : 0;
    if (step.batch_norm && next && (slopes == 1 || slopes == step.batch_norm->options.num_features_)) {
      y = step.batch_norm->forward_prelu(y, next->weight);
      ++i;
      continue;
    }
    y = step.run(y);
  }
  return y;
}

std::shared_ptr<Module> SequentialImpl::operator[](size_t i) const {
  FACET_CHECK(i < steps_.size(), "Sequential", "an index below " + std::to_string(steps_.size()),
              std::to_string(i));
  return named_children()[i].second;
}

}  // namespace facet::nn
