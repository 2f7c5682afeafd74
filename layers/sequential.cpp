#include "layers/sequential.h"

namespace facet::nn {

Tensor SequentialImpl::forward(const Tensor& x) const {
  Tensor y = x;
  for (const auto& step : steps_) y = step(y);
  return y;
}

std::shared_ptr<Module> SequentialImpl::operator[](size_t i) const {
  FACET_CHECK(i < steps_.size(), "Sequential", "an index below " + std::to_string(steps_.size()),
              std::to_string(i));
  return named_children()[i].second;
}

}  // namespace facet::nn
