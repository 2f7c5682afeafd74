#include "examples/fashion_mnist/heads.h"

#include <cmath>
#include <sstream>
#include <vector>

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
  SphereHead(int64_t feat_dim, int64_t classes, int m) : Head("SphereHead") {
    head = register_module("margin", nn::SphereProduct(feat_dim, classes, m));
  }
  Tensor loss(const Tensor& f, const Tensor& y) override { return head->loss(f, y); }
  Tensor scores(const Tensor& f) override { return linear(normalize(f, 1), normalize(head->weight, 1)); }
  nn::SphereProduct head{nullptr};
};

// "" or the comma-separated numbers of --margin, each checked to be a number.
std::vector<double> parse_margins(const std::string& text) {
  std::vector<double> margins;
  if (text.empty()) return margins;
  if (text.find_first_of(" \t\n") != std::string::npos || text.back() == ',')
    throw Error("--margin", "numbers separated by commas", "\"" + text + "\"");
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) throw Error("--margin", "numbers separated by commas", "\"" + text + "\"");
    margins.push_back(value);
  }
  return margins;
}

// The head's own margins, or those of --margin when given (how many depends on the head).
std::vector<double> margins_for(const std::string& head, const std::string& text, std::vector<double> defaults) {
  const std::vector<double> given = parse_margins(text);
  if (given.empty()) return defaults;
  if (defaults.empty()) throw Error("--margin", "no margin: " + head + " has none", "\"" + text + "\"");
  if (given.size() != defaults.size())
    throw Error("--margin", std::to_string(defaults.size()) + (defaults.size() == 1 ? " number" : " numbers (m1,m2,m3)") +
                                " for " + head,
                "\"" + text + "\"");
  return given;
}

}  // namespace

std::shared_ptr<Head> make_head(const std::string& name, int64_t feat_dim, int64_t classes, const std::string& margin) {
  if (name == "softmax" || name == "center") margins_for(name, margin, {});
  if (name == "softmax") return std::make_shared<SoftmaxHead>(feat_dim, classes);
  if (name == "center") return std::make_shared<CenterHead>(feat_dim, classes);
  if (name == "cosface") {
    const double m = margins_for(name, margin, {0.40})[0];
    return std::make_shared<MarginHead<nn::AddMarginProduct>>(nn::AddMarginProduct(feat_dim, classes, 30.0, m));
  }
  if (name == "arcface") {
    const double m = margins_for(name, margin, {0.50})[0];
    return std::make_shared<MarginHead<nn::ArcMarginProduct>>(nn::ArcMarginProduct(feat_dim, classes, 30.0, m, false));
  }
  if (name == "sphereface") {
    const double m = margins_for(name, margin, {4})[0];
    // SphereProduct checks the range; a fraction or a number beyond int is caught here.
    if (m != std::floor(m) || std::abs(m) > 1000) throw Error("--margin", "a whole number for sphereface", "\"" + margin + "\"");
    return std::make_shared<SphereHead>(feat_dim, classes, static_cast<int>(m));
  }
  if (name == "combined") {
    const std::vector<double> m = margins_for(name, margin, {1.0, 0.3, 0.2});
    return std::make_shared<MarginHead<nn::CombinedMarginProduct>>(nn::CombinedMarginProduct(feat_dim, classes, 30.0, m[0], m[1], m[2]));
  }
  if (name == "subcenter") {
    const double m = margins_for(name, margin, {0.50})[0];
    return std::make_shared<MarginHead<nn::SubCenterArcMarginProduct>>(
        nn::SubCenterArcMarginProduct(feat_dim, classes, 3, 30.0, m, false));
  }
  throw Error("--head", "softmax, center, cosface, arcface, sphereface, combined or subcenter", "\"" + name + "\"");
}

}  // namespace example
