#include "layers/batchnorm.h"

#include <ostream>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"
#include "layers/prelu.h"

namespace facet::nn {

BatchNormImpl::BatchNormImpl(const BatchNormOptions& opts, int64_t lo, int64_t hi, const char* name)
    : Module(name), options(opts), dims_lo_(lo), dims_hi_(hi) {
  const int64_t c = options.num_features_;
  FACET_CHECK(c > 0, name, "num_features > 0", std::to_string(c));
  if (options.affine_) {
    weight = register_parameter("weight", ones({c}));
    bias = register_parameter("bias", zeros({c}));
  }
  running_mean = register_buffer("running_mean", zeros({c}));
  running_var = register_buffer("running_var", ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
}

Tensor BatchNormImpl::forward(const Tensor& x) { return forward_prelu(x, Tensor()); }

Tensor BatchNormImpl::forward_prelu(const Tensor& x, const Tensor& slope) {
  const int64_t c = options.num_features_;
  FACET_CHECK(x.defined() && x.dim() >= dims_lo_ && x.dim() <= dims_hi_ && x.size(1) == c, type_name(),
              std::string("an input [N, ") + std::to_string(c) + (dims_hi_ == 4 ? ", H, W]" : "] or [N, C, L]"),
              x.describe());
  Shape per_channel(static_cast<size_t>(x.dim()), 1);  // [1, C, 1, ...]: broadcasts over all but dim 1
  per_channel[1] = c;
  if (is_training()) {
    const int64_t m = x.numel() / c;
    FACET_CHECK(m > 1, type_name(), "more than one value per channel when training", x.describe());
    Tensor mean_c, var_c;
    const Tensor y = batch_norm_prelu_train(x, weight, bias, slope, options.eps_, &mean_c, &var_c);
    NoGradGuard no_grad;
    ops::batch_norm_update_running(running_mean, running_var, num_batches_tracked, mean_c.to(running_mean.dtype()),
                                   var_c.to(running_var.dtype()), options.momentum_, m);
    return y;
  }
  Tensor y = (x - running_mean.reshape(per_channel)) / sqrt(running_var.reshape(per_channel) + options.eps_);
  if (options.affine_) y = y * weight.reshape(per_channel) + bias.reshape(per_channel);
  return slope.defined() ? prelu(y, slope) : y;
}

void BatchNormImpl::pretty_print(std::ostream& os) const {
  os << type_name() << "(" << options.num_features_ << ", eps=" << options.eps_ << ", momentum=" << options.momentum_
     << ", affine=" << (options.affine_ ? "true" : "false") << ")";
}

}  // namespace facet::nn
