#pragma once
#include "core/generator.h"
#include "layers/module.h"

namespace facet::nn {

// Training: zeroes each element with probability p (a Philox mask) and scales the rest by
// 1 / (1 - p); evaluation: the identity.
class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(double p = 0.5);
  Tensor forward(const Tensor& x) const;
  void pretty_print(std::ostream& os) const override;
  double p;
};
FACET_MODULE(Dropout);

// The functional form; `gen` fixes the mask (the default generator otherwise).
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

}  // namespace facet::nn
