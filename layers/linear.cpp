#include "layers/linear.h"

#include <cmath>
#include <ostream>

#include "autograd/functions.h"
#include "core/factory.h"
#include "layers/init.h"

namespace facet::nn {

LinearImpl::LinearImpl(const LinearOptions& opts) : Module("Linear"), options(opts) {
  FACET_CHECK(options.in_features_ > 0 && options.out_features_ > 0, "Linear", "positive in_features and out_features",
              std::to_string(options.in_features_) + " and " + std::to_string(options.out_features_));
  weight = register_parameter("weight", empty({options.out_features_, options.in_features_}));
  if (options.bias_) bias = register_parameter("bias", empty({options.out_features_}));
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features_));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor LinearImpl::forward(const Tensor& x) const { return linear(x, weight, bias); }

void LinearImpl::pretty_print(std::ostream& os) const {
  os << "Linear(in_features=" << options.in_features_ << ", out_features=" << options.out_features_
     << ", bias=" << (options.bias_ ? "true" : "false") << ")";
}

}  // namespace facet::nn
