#pragma once
#include <cstdint>

#include "layers/module.h"

namespace facet::nn {

// Flattens dims start_dim..end_dim, by default all but the batch dim (as torch.nn.Flatten).
class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) const;
  void pretty_print(std::ostream& os) const override;

  int64_t start_dim, end_dim;
};
FACET_MODULE(Flatten);

}  // namespace facet::nn
