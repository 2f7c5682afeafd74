#include "layers/prelu.h"

#include <ostream>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"
#include "core/factory.h"

namespace facet::nn {

Tensor prelu(const Tensor& x, const Tensor& weight) {
  // One node over the fused ops (core/ops_prelu.cpp): the composed where(x > 0, x, a * x) cost a
  // comparison, a product and a select forward and six full-size ops backward.
  const Tensor out = ops::prelu(x, weight);  // checks the shapes
  return record("PReluBackward", out, {x, weight},
                [x = ops::alias(x), w = ops::alias(weight)](const Tensor& g, const NeedsGrad& needs) {
                  auto [gx, gw] = ops::prelu_backward(g, x, w, needs[0]);
                  return std::vector<Tensor>{gx, needs[1] ? gw : Tensor()};
                });
}

PReLUImpl::PReLUImpl(int64_t num_parameters, double init) : Module("PReLU") {
  FACET_CHECK(num_parameters > 0, "PReLU", "num_parameters > 0", std::to_string(num_parameters));
  weight = register_parameter("weight", full({num_parameters}, init));
}

Tensor PReLUImpl::forward(const Tensor& x) const { return prelu(x, weight); }

void PReLUImpl::pretty_print(std::ostream& os) const { os << "PReLU(num_parameters=" << weight.numel() << ")"; }

}  // namespace facet::nn
