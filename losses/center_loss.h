#pragma once
// Center loss (Wen et al., ECCV 2016): L_C = 1/2 · sum_i |x_i - c_{y_i}|² / B, added to the
// softmax loss as CE + lambda · L_C. forward() returns lambda · L_C. Two ways to keep the centers:
//   CenterUpdate::Rule      the paper's: centers are a buffer, untouched by the optimizer; after each
//                           step, update_centers(x, labels) applies
//                           Δc_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j),  c_j <- c_j - alpha · Δc_j,
//                           independent of lambda.
//   CenterUpdate::Gradient  centers are a parameter for their own optimizer group; their gradient is
//                           dL_C/dc, not scaled by lambda (the features' gradient is).
#include <cstdint>

#include "layers/module.h"

namespace facet::nn {

enum class CenterUpdate { Rule, Gradient };

struct CenterLossOptions {
  CenterLossOptions(int64_t num_classes, int64_t feat_dim) : num_classes_(num_classes), feat_dim_(feat_dim) {}
  CenterLossOptions& lambda(double v) {
    lambda_ = v;
    return *this;
  }
  CenterLossOptions& alpha(double v) {
    alpha_ = v;
    return *this;
  }
  CenterLossOptions& update(CenterUpdate v) {
    update_ = v;
    return *this;
  }
  int64_t num_classes_, feat_dim_;
  double lambda_ = 1.0, alpha_ = 0.5;
  CenterUpdate update_ = CenterUpdate::Rule;
};

class CenterLossImpl : public Module {
 public:
  CenterLossImpl(int64_t num_classes, int64_t feat_dim) : CenterLossImpl(CenterLossOptions(num_classes, feat_dim)) {}
  explicit CenterLossImpl(const CenterLossOptions& options);
  // lambda · L_C for features x [B, feat_dim] and int64 labels [B].
  Tensor forward(const Tensor& x, const Tensor& labels) const;
  // The paper's rule (CenterUpdate::Rule only); call after the optimizer's step.
  void update_centers(const Tensor& x, const Tensor& labels);
  void pretty_print(std::ostream& os) const override;

  CenterLossOptions options;
  Tensor centers;  // [num_classes, feat_dim]; a buffer (Rule) or a parameter (Gradient)
};
FACET_MODULE(CenterLoss);

}  // namespace facet::nn
