#include "losses/sphere_product.h"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"
#include "cuda/graph.h"
#include "layers/init.h"
#include "losses/margin_logits.h"

namespace facet::nn {

SphereProductImpl::SphereProductImpl(int64_t in, int64_t out, int m_)
    : Module("SphereProduct"), in_features(in), out_features(out), m(m_) {
  FACET_CHECK(in > 0 && out > 0, "SphereProduct", "positive in_features and out_features",
              std::to_string(in) + " and " + std::to_string(out));
  ops::check_margin_spec("SphereProduct", margin_sphere(m, 0.0));
  weight = register_parameter("weight", empty({out, in}));
  init::xavier_uniform_(weight);
  iteration = register_host_buffer("iteration", zeros({1}, kInt64));
}

double SphereProductImpl::lambda() const {
  const double iter = static_cast<double>(iteration.data<int64_t>()[0]) + 1.0;
  return std::max(lambda_min, base * std::pow(1.0 + gamma * iter, -power));
}

Tensor SphereProductImpl::forward(const Tensor& x, const Tensor& labels) {
  FACET_CHECK(x.defined() && x.dim() == 2 && x.size(1) == in_features, "SphereProduct",
              "features [batch, " + std::to_string(in_features) + "]", x.defined() ? x.describe() : "an undefined tensor");
  // lambda anneals with a host-side step count, which a CUDA graph would freeze.
  FACET_CHECK(!(is_training() && cuda::is_capturing(x.device())), "SphereProduct",
              "training outside a CUDA graph capture (lambda anneals with a step count kept on the host)",
              "a capture of " + x.device().str());
  const double lam = lambda();
  if (is_training()) {
    NoGradGuard no_grad;
    ops::copy_(iteration, ops::binary(BinaryOp::Add, iteration, 1.0));
  }
  const Tensor cos = clamp(linear(normalize(x, 1), normalize(weight, 1)), -1.0, 1.0);
  // |x| as x · normalize(x): its gradient is x / |x|, and 0 (not NaN) at x = 0.
  const Tensor norm = sum(x * normalize(x, 1), 1, true);
  return apply_margin(cos, labels, margin_sphere(m, lam)) * norm;
}

Tensor SphereProductImpl::loss(const Tensor& x, const Tensor& labels, Reduction reduction, double label_smoothing) {
  return cross_entropy(forward(x, labels), labels, reduction, label_smoothing);
}

void SphereProductImpl::pretty_print(std::ostream& os) const {
  os << "SphereProduct(in_features=" << in_features << ", out_features=" << out_features << ", m=" << m << ")";
}

}  // namespace facet::nn
