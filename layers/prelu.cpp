#include "layers/prelu.h"

#include <ostream>

#include "autograd/functions.h"
#include "core/factory.h"

namespace facet::nn {

Tensor prelu(const Tensor& x, const Tensor& weight) {
  FACET_CHECK(weight.defined() && weight.dim() == 1, "prelu", "a 1-d weight", weight.describe());
  Tensor slope = weight;
  if (weight.size(0) != 1) {
    FACET_CHECK(x.dim() >= 2 && x.size(1) == weight.size(0), "prelu",
                "an input with " + std::to_string(weight.size(0)) + " channels in dim 1", x.describe());
    Shape view(static_cast<size_t>(x.dim()), 1);
    view[1] = weight.size(0);
    slope = weight.reshape(view);
  }
  // where(x > 0, x, a * x): at x = 0 the input's gradient is a * g, as in PyTorch.
  return where(gt(x, zeros({}, x.dtype(), x.device())), x, slope * x);
}

PReLUImpl::PReLUImpl(int64_t num_parameters, double init) : Module("PReLU") {
  FACET_CHECK(num_parameters > 0, "PReLU", "num_parameters > 0", std::to_string(num_parameters));
  weight = register_parameter("weight", full({num_parameters}, init));
}

Tensor PReLUImpl::forward(const Tensor& x) const { return prelu(x, weight); }

void PReLUImpl::pretty_print(std::ostream& os) const { os << "PReLU(num_parameters=" << weight.numel() << ")"; }

}  // namespace facet::nn
