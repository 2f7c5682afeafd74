#pragma once
#include <cstdint>

#include "layers/module.h"

namespace facet::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  LinearOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  int64_t in_features_, out_features_;
  bool bias_ = true;
};

// y = x @ weight^T + bias, weight [out_features, in_features]. PyTorch's default initialization:
// weight from kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and the bias from
// the same interval.
class LinearImpl : public Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features) : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);
  Tensor forward(const Tensor& x) const;
  void reset_parameters();
  void pretty_print(std::ostream& os) const override;

  LinearOptions options;
  Tensor weight, bias;  // bias undefined when options.bias_ is false
};
FACET_MODULE(Linear);

}  // namespace facet::nn
