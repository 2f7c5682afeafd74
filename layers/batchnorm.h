#pragma once
#include <cstdint>

#include "layers/module.h"

namespace facet::nn {

struct BatchNormOptions {
  explicit BatchNormOptions(int64_t num_features) : num_features_(num_features) {}
  BatchNormOptions& eps(double v) { eps_ = v; return *this; }
  BatchNormOptions& momentum(double v) { momentum_ = v; return *this; }
  BatchNormOptions& affine(bool v) { affine_ = v; return *this; }
  int64_t num_features_;
  double eps_ = 1e-5, momentum_ = 0.1;
  bool affine_ = true;
};

// Batch normalization over dim 1 (channels) of [N, C] / [N, C, L] (BatchNorm1d) or [N, C, H, W]
// (BatchNorm2d), as PyTorch defines it. Training: normalize with the batch's mean and biased
// variance, and update running_mean / running_var with momentum, the variance unbiased
// (times M / (M - 1), M values per channel). Evaluation: normalize with the running statistics.
// Training runs fused kernels (statistics, normalize-scale-shift, a two-pass backward) on both
// backends; evaluation composes ordinary ops.
class BatchNormImpl : public Module {
 public:
  BatchNormImpl(const BatchNormOptions& options, int64_t input_dims_lo, int64_t input_dims_hi, const char* name);
  Tensor forward(const Tensor& x);
  // forward(x) then PReLU with `slope`, as one fused op in training (nn::Sequential calls it for a
  // BatchNorm followed by a PReLU); in evaluation the two in turn.
  Tensor forward_prelu(const Tensor& x, const Tensor& slope);
  void pretty_print(std::ostream& os) const override;

  BatchNormOptions options;
  Tensor weight, bias;                                     // undefined unless affine
  Tensor running_mean, running_var, num_batches_tracked;  // buffers

 private:
  int64_t dims_lo_, dims_hi_;
};

class BatchNorm1dImpl : public BatchNormImpl {
 public:
  explicit BatchNorm1dImpl(const BatchNormOptions& options) : BatchNormImpl(options, 2, 3, "BatchNorm1d") {}
  explicit BatchNorm1dImpl(int64_t num_features) : BatchNorm1dImpl(BatchNormOptions(num_features)) {}
};
FACET_MODULE(BatchNorm1d);

class BatchNorm2dImpl : public BatchNormImpl {
 public:
  explicit BatchNorm2dImpl(const BatchNormOptions& options) : BatchNormImpl(options, 4, 4, "BatchNorm2d") {}
  explicit BatchNorm2dImpl(int64_t num_features) : BatchNorm2dImpl(BatchNormOptions(num_features)) {}
};
FACET_MODULE(BatchNorm2d);

}  // namespace facet::nn
