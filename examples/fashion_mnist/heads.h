#pragma once
// The example's loss heads behind one interface: a module holding the head's parameters (and
// buffers), the training loss of features and labels, the class scores used for accuracy, and
// what runs after each optimizer step (the Center-loss paper's center update).
//   softmax     a linear classifier and cross_entropy
//   center      softmax plus CenterLoss (lambda 0.1, alpha 0.5, the paper's update rule)
//   cosface     AddMarginProduct(s = 30, m = 0.40)
//   arcface     ArcMarginProduct(s = 30, m = 0.50, easy_margin = false)
//   sphereface  SphereProduct(m = 4), lambda annealed
//   combined    CombinedMarginProduct(s = 30, m1 = 1, m2 = 0.3, m3 = 0.2)
//   subcenter   SubCenterArcMarginProduct(K = 3, s = 30, m = 0.50)
// The margin heads train through their fused loss and predict with the cosine to each class.
#include <cstdint>
#include <memory>
#include <string>

#include "facet.h"

namespace example {

class Head : public facet::nn::Module {
 public:
  using facet::nn::Module::Module;
  virtual facet::Tensor loss(const facet::Tensor& features, const facet::Tensor& labels) = 0;
  // [B, classes]: the argmax is the prediction.
  virtual facet::Tensor scores(const facet::Tensor& features) = 0;
  virtual void after_step(const facet::Tensor& /*features*/, const facet::Tensor& /*labels*/) {}
  // Whether the head compares directions (its 2-D pictures show the normalized features).
  virtual bool angular() const { return true; }
};

// margin: "" for the defaults above, else --margin's numbers: one for cosface, arcface and
// subcenter, a whole number for sphereface, m1,m2,m3 for combined (softmax and center have none).
// facet::Error for an unknown name or a margin that does not fit the head.
std::shared_ptr<Head> make_head(const std::string& name, int64_t feat_dim, int64_t classes, const std::string& margin = "");

}  // namespace example
