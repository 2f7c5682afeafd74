// Front door of the training-mode batchnorm kernels: x [N, C, ...]; per-channel tensors [C].
#include <cmath>
#include <string>
#include <utility>

#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

// A per-channel tensor [C] on x's device and dtype; `required` ones must be defined.
void check_channels(const char* what, const Tensor& x, const Tensor& t, bool required = false) {
  FACET_CHECK(t.defined() || !required, "batch_norm", std::string("a defined tensor for ") + what, "an undefined tensor");
  if (!t.defined()) return;
  FACET_CHECK(t.dim() == 1 && t.size(0) == x.size(1), "batch_norm",
              std::string(what) + " of shape [" + std::to_string(x.size(1)) + "]", t.describe());
  check_same_device("batch_norm", x, t);
  check_same_dtype("batch_norm", x, t);
}

Tensor dense(const Tensor& t) { return t.defined() ? contiguous(t) : t; }

// A PReLU slope for the fused form: undefined (no activation), or [C] or [1] like x.
void check_slope(const Tensor& x, const Tensor& slope) {
  if (!slope.defined()) return;
  FACET_CHECK(slope.dim() == 1 && (slope.size(0) == 1 || slope.size(0) == x.size(1)), "batch_norm_prelu",
              "a PReLU slope of shape [1] or [" + std::to_string(x.size(1)) + "]", slope.describe());
  check_same_device("batch_norm_prelu", x, slope);
  check_same_dtype("batch_norm_prelu", x, slope);
}

void check_input(const Tensor& x) {
  check_defined("batch_norm", x, "the input");
  check_floating("batch_norm", x);
  FACET_CHECK(x.dim() >= 2, "batch_norm", "an input [N, C, ...]", x.describe());
}

}  // namespace

std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x) {
  check_input(x);
  Tensor mean = output("batch_norm", {x.size(1)}, x.dtype(), x.device());
  Tensor var = output("batch_norm", {x.size(1)}, x.dtype(), x.device());
  const Tensor xc = contiguous(x);
  FACET_DISPATCH("batch_norm", x, batch_norm_stats, xc, mean, var);
  return {mean, var};
}

void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const Tensor& num_batches_tracked,
                               const Tensor& mean, const Tensor& var, double momentum, int64_t count) {
  const char* op = "batch_norm running statistics";
  check_defined(op, running_mean, "a running mean");
  check_floating(op, running_mean);
  FACET_CHECK(running_mean.dim() == 1 && running_mean.is_contiguous(), op, "a contiguous running mean [C]",
              running_mean.describe());
  const auto like_running_mean = [&](const char* name) {  // built only for an error message
    std::string s = std::string("a contiguous ") + name + " [";
    s += std::to_string(running_mean.size(0));
    s += "] ";
    s += dtype_name(running_mean.dtype());
    s += " on ";
    s += running_mean.device().str();
    return s;
  };
  for (const auto& [t, name] : {std::pair{&running_var, "running variance"}, {&mean, "batch mean"}, {&var, "batch variance"}}) {
    check_defined(op, *t, name);
    FACET_CHECK(t->shape() == running_mean.shape() && t->dtype() == running_mean.dtype() &&
                    t->device() == running_mean.device() && t->is_contiguous(),
                op, like_running_mean(name), t->describe());
  }
  if (num_batches_tracked.defined())
    FACET_CHECK(num_batches_tracked.dtype() == kInt64 && num_batches_tracked.numel() == 1 &&
                    num_batches_tracked.device() == running_mean.device(),
                op, "num_batches_tracked as one int64 on " + running_mean.device().str(), num_batches_tracked.describe());
  FACET_CHECK(count > 1 && std::isfinite(momentum), op, "more than one value a channel and a finite momentum",
              "count " + std::to_string(count) + ", momentum " + std::to_string(momentum));
  FACET_DISPATCH(op, running_mean, batch_norm_update_running, running_mean, running_var, num_batches_tracked, mean, var,
                 momentum, count);
}

Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight, const Tensor& bias,
                        double eps) {
  return batch_norm_prelu_apply(x, mean, var, weight, bias, Tensor(), eps);
}

Tensor batch_norm_prelu_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                              const Tensor& bias, const Tensor& slope, double eps) {
  check_input(x);
  check_channels("a mean", x, mean, true);
  check_channels("a variance", x, var, true);
  check_channels("a weight", x, weight);
  check_channels("a bias", x, bias);
  check_slope(x, slope);
  Tensor out = output("batch_norm", x.shape(), x.dtype(), x.device());
  const Tensor xc = contiguous(x);
  // The kernels index per-channel tensors as dense [C] arrays.
  FACET_DISPATCH("batch_norm", x, batch_norm_apply, xc, dense(mean), dense(var), dense(weight), dense(bias), dense(slope),
                 eps, out);
  return out;
}

std::array<Tensor, 3> batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& mean, const Tensor& var,
                                          const Tensor& weight, double eps, std::array<bool, 3> needs) {
  const auto g = batch_norm_prelu_backward(grad, x, mean, var, weight, Tensor(), Tensor(), eps,
                                           {needs[0], needs[1], needs[2], false});
  return {g[0], g[1], g[2]};
}

std::array<Tensor, 4> batch_norm_prelu_backward(const Tensor& grad, const Tensor& x, const Tensor& mean,
                                                const Tensor& var, const Tensor& weight, const Tensor& bias,
                                                const Tensor& slope, double eps, std::array<bool, 4> needs) {
  check_input(x);
  FACET_CHECK(grad.defined() && grad.shape() == x.shape(), "batch_norm", "a gradient of the input's shape", grad.describe());
  check_same_device("batch_norm", x, grad);
  check_channels("a mean", x, mean, true);
  check_channels("a variance", x, var, true);
  check_channels("a weight", x, weight);
  check_channels("a bias", x, bias);
  check_slope(x, slope);
  const Tensor gx = needs[0] ? output("batch_norm", x.shape(), x.dtype(), x.device()) : Tensor();
  const Tensor gw = needs[1] ? output("batch_norm", {x.size(1)}, x.dtype(), x.device()) : Tensor();
  const Tensor gb = needs[2] ? output("batch_norm", {x.size(1)}, x.dtype(), x.device()) : Tensor();
  const Tensor gs = needs[3] && slope.defined() ? output("batch_norm", slope.shape(), x.dtype(), x.device()) : Tensor();
  const Tensor xc = contiguous(x), gc = contiguous(grad);
  FACET_DISPATCH("batch_norm", x, batch_norm_backward, gc, xc, dense(mean), dense(var), dense(weight), dense(bias),
                 dense(slope), eps, gx, gw, gb, gs);
  return {gx, gw, gb, gs};
}

}  // namespace facet::ops
