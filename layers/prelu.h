#pragma once
#include <cstdint>

#include "layers/module.h"

namespace facet::nn {

// y = max(0, x) + a * min(0, x), with one learnable slope a per channel (dim 1), or one for all
// when num_parameters = 1; slopes start at 0.25, as in PyTorch (and LeNet++ uses it per channel).
class PReLUImpl : public Module {
 public:
  explicit PReLUImpl(int64_t num_parameters = 1, double init = 0.25);
  Tensor forward(const Tensor& x) const;
  void pretty_print(std::ostream& os) const override;
  Tensor weight;
};
FACET_MODULE(PReLU);

// The functional form: weight [1] or [C] for an input [N, C, ...].
Tensor prelu(const Tensor& x, const Tensor& weight);

}  // namespace facet::nn
