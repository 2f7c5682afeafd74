#include "losses/center_loss.h"

#include <ostream>

#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"
#include "layers/init.h"

namespace facet::nn {

namespace {

Tensor times(const Tensor& a, double b) { return ops::binary(BinaryOp::Mul, a, b); }

}  // namespace

CenterLossImpl::CenterLossImpl(const CenterLossOptions& opts) : Module("CenterLoss"), options(opts) {
  FACET_CHECK(options.num_classes_ > 0 && options.feat_dim_ > 0, "CenterLoss", "positive num_classes and feat_dim",
              std::to_string(options.num_classes_) + " and " + std::to_string(options.feat_dim_));
  FACET_CHECK(options.lambda_ > 0, "CenterLoss", "lambda > 0", "lambda = " + std::to_string(options.lambda_));
  FACET_CHECK(options.alpha_ > 0 && options.alpha_ <= 1, "CenterLoss", "alpha in (0, 1]",
              "alpha = " + std::to_string(options.alpha_));
  Tensor c = empty({options.num_classes_, options.feat_dim_});
  init::xavier_uniform_(c);
  centers = options.update_ == CenterUpdate::Gradient ? register_parameter("centers", c) : register_buffer("centers", c);
}

Tensor CenterLossImpl::forward(const Tensor& x, const Tensor& labels) const {
  FACET_CHECK(x.defined() && x.dim() == 2 && x.size(1) == options.feat_dim_, "CenterLoss",
              "features [batch, " + std::to_string(options.feat_dim_) + "]",
              x.defined() ? x.describe() : "an undefined tensor");
  FACET_CHECK(x.dtype() == centers.dtype() && x.device() == centers.device(), "CenterLoss",
              "features of the centers' dtype and device", x.describe() + " for centers " + centers.describe());
  ops::check_labels("CenterLoss", labels, x.size(0), options.num_classes_, x.device());
  const double batch = static_cast<double>(x.size(0) > 0 ? x.size(0) : 1);
  const Tensor diff = ops::binary(BinaryOp::Sub, x, ops::index_select(centers, 0, labels));
  const Tensor value = times(ops::sum(ops::binary(BinaryOp::Mul, diff, diff)), 0.5 * options.lambda_ / batch);
  return record("CenterLossBackward", value, {x, centers},
                [diff, labels = ops::alias(labels), shape = centers.shape(), lambda = options.lambda_, batch](
                    const Tensor& g, const NeedsGrad& needs) {
                  // d(lambda L_C)/dx = lambda (x - c_y) / B; dL_C/dc_j = -sum_{y_i = j} (x_i - c_j) / B.
                  const Tensor scaled = ops::binary(BinaryOp::Mul, diff, g);
                  return std::vector<Tensor>{
                      needs[0] ? times(scaled, lambda / batch) : Tensor(),
                      needs[1] ? ops::index_add(zeros(shape, diff.dtype(), diff.device()), 0, labels,
                                                times(scaled, -1.0 / batch))
                               : Tensor()};
                });
}

void CenterLossImpl::update_centers(const Tensor& x, const Tensor& labels) {
  FACET_CHECK(options.update_ == CenterUpdate::Rule, "CenterLoss::update_centers",
              "centers kept by the paper's rule (CenterUpdate::Rule)",
              "learnable centers (CenterUpdate::Gradient): their optimizer updates them");
  FACET_CHECK(x.defined() && x.dim() == 2 && x.size(1) == options.feat_dim_ && x.device() == centers.device(),
              "CenterLoss::update_centers", "features [batch, " + std::to_string(options.feat_dim_) + "] on " +
              centers.device().str(), x.defined() ? x.describe() : "an undefined tensor");
  ops::check_labels("CenterLoss::update_centers", labels, x.size(0), options.num_classes_, x.device());
  NoGradGuard no_grad;
  const Tensor xd = ops::cast(x, centers.dtype());
  const Tensor offsets = ops::binary(BinaryOp::Sub, ops::index_select(centers, 0, labels), xd);  // c_{y_i} - x_i
  const Tensor sums = ops::index_add(zeros(centers.shape(), centers.dtype(), centers.device()), 0, labels, offsets);
  const Tensor counts = ops::index_add(zeros({options.num_classes_}, centers.dtype(), centers.device()), 0, labels,
                                       ones({x.size(0)}, centers.dtype(), centers.device()));
  const Tensor delta = ops::binary(BinaryOp::Div, sums, ops::unsqueeze(ops::binary(BinaryOp::Add, counts, 1.0), 1));
  ops::copy_(centers, ops::binary(BinaryOp::Sub, centers, times(delta, options.alpha_)));
}

void CenterLossImpl::pretty_print(std::ostream& os) const {
  os << "CenterLoss(num_classes=" << options.num_classes_ << ", feat_dim=" << options.feat_dim_
     << ", lambda=" << options.lambda_ << ", alpha=" << options.alpha_
     << ", update=" << (options.update_ == CenterUpdate::Rule ? "rule" : "gradient") << ")";
}

}  // namespace facet::nn
