#include "examples/fashion_mnist/heads.h"

namespace example {

using namespace facet;

namespace {

class SoftmaxHead : public Head {
 public:
  SoftmaxHead(int64_t feat_dim, int64_t classes) : Head("SoftmaxHead") {
    fc = register_module("fc", nn::Linear(feat_dim, classes));
  }
  Tensor loss(const Tensor& f, const Tensor& y) override { return nn::cross_entropy(fc(f), y); }
  Tensor scores(const Tensor& f) override { return fc(f); }
  bool angular() const override { return false; }
  nn::Linear fc{nullptr};
};

class CenterHead : public Head {
 public:
  CenterHead(int64_t feat_dim, int64_t classes) : Head("CenterHead") {
    fc = register_module("fc", nn::Linear(feat_dim, classes));
    center = register_module("center", nn::CenterLoss(nn::CenterLossOptions(classes, feat_dim).lambda(0.1).alpha(0.5)));
  }
  Tensor loss(const Tensor& f, const Tensor& y) override { return nn::cross_entropy(fc(f), y) + center(f, y); }
  Tensor scores(const Tensor& f) override { return fc(f); }
  void after_step(const Tensor& f, const Tensor& y) override { center->update_centers(f.detach(), y); }
  bool angular() const override { return false; }
  nn::Linear fc{nullptr};
  nn::CenterLoss center{nullptr};
};

// Any MarginProduct: fused loss, cosine scores.
template <class Holder>
class MarginHead : public Head {
 public:
  explicit MarginHead(Holder h) : Head("MarginHead") { head = register_module("margin", h); }
  Tensor loss(const Tensor& f, const Tensor& y) override { return head->loss(f, y); }
  Tensor scores(const Tensor& f) override { return head->cosine(f); }
  Holder head{nullptr};
};

class SphereHead : public Head {
 public:
  SphereHead(int64_t feat_dim, int64_t classes) : Head("SphereHead") {
    head = register_module("margin", nn::SphereProduct(feat_dim, classes, 4));
  }
  Tensor loss(const Tensor& f, const Tensor& y) override { return head->loss(f, y); }
  Tensor scores(const Tensor& f) override { return linear(normalize(f, 1), normalize(head->weight, 1)); }
  nn::SphereProduct head{nullptr};
};

}  // namespace

std::shared_ptr<Head> make_head(const std::string& name, int64_t feat_dim, int64_t classes) {
  if (name == "softmax") return std::make_shared<SoftmaxHead>(feat_dim, classes);
  if (name == "center") return std::make_shared<CenterHead>(feat_dim, classes);
  if (name == "cosface") return std::make_shared<MarginHead<nn::AddMarginProduct>>(nn::AddMarginProduct(feat_dim, classes, 30.0, 0.40));
  if (name == "arcface")
    return std::make_shared<MarginHead<nn::ArcMarginProduct>>(nn::ArcMarginProduct(feat_dim, classes, 30.0, 0.50, false));
  if (name == "sphereface") return std::make_shared<SphereHead>(feat_dim, classes);
  if (name == "combined")
    return std::make_shared<MarginHead<nn::CombinedMarginProduct>>(nn::CombinedMarginProduct(feat_dim, classes, 30.0, 1.0, 0.3, 0.2));
  if (name == "subcenter")
    return std::make_shared<MarginHead<nn::SubCenterArcMarginProduct>>(
        nn::SubCenterArcMarginProduct(feat_dim, classes, 3, 30.0, 0.50, false));
  throw Error("--head", "softmax, center, cosface, arcface, sphereface, combined or subcenter", "\"" + name + "\"");
}

}  // namespace example
