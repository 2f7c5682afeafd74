#pragma once
// The margin heads of face recognition, with the names, arguments and defaults of the reference
// PyTorch code people port from. Each holds a class-weight matrix W [classes, in_features]
// (xavier-uniform) and works on cos θ = normalize(x) · normalize(W)ᵀ:
//   forward(x, labels)  the logits [B, C], exactly as the reference's forward returns them;
//   loss(x, labels)     the fused path: the GEMM, then margin + softmax + cross-entropy in one
//                       kernel pair; equal to cross_entropy(forward(x, labels), labels).
// docs/loss_heads.md has each formula and a picture of its target logit against θ.
#include <cstdint>

#include "core/margin_math.h"
#include "layers/module.h"
#include "losses/cross_entropy.h"

namespace facet::nn {

class MarginProductImpl : public Module {
 public:
  // cos θ [B, classes] for features x [B, in_features].
  virtual Tensor cosine(const Tensor& x) const;
  Tensor forward(const Tensor& x, const Tensor& labels) const;
  Tensor loss(const Tensor& x, const Tensor& labels, Reduction reduction = Reduction::Mean,
              double label_smoothing = 0.0) const;
  MarginSpec spec() const { return spec_; }

  int64_t in_features, out_features;
  Tensor weight;

 protected:
  // weight [weight_rows, in_features]; spec is checked here, so a bad margin fails at construction.
  MarginProductImpl(const char* type, int64_t in_features, int64_t out_features, int64_t weight_rows,
                    const MarginSpec& spec);
  void check_features(const char* op, const Tensor& x) const;
  MarginSpec spec_;
};

// CosFace (large margin cosine loss): target logit s · (cos θ - m).
class AddMarginProductImpl : public MarginProductImpl {
 public:
  AddMarginProductImpl(int64_t in_features, int64_t out_features, double s = 30.0, double m = 0.40);
  void pretty_print(std::ostream& os) const override;
  double s, m;
};
FACET_MODULE(AddMarginProduct);

// ArcFace (additive angular margin): target logit s · cos(θ + m), with easy_margin (keep cos θ
// where cos θ <= 0) or the th/mm fallback (cos θ - sin(π - m)·m where θ > π - m).
class ArcMarginProductImpl : public MarginProductImpl {
 public:
  ArcMarginProductImpl(int64_t in_features, int64_t out_features, double s = 30.0, double m = 0.50,
                       bool easy_margin = false);
  void pretty_print(std::ostream& os) const override;
  double s, m;
  bool easy_margin;
};
FACET_MODULE(ArcMarginProduct);

// The combined margin of the ArcFace paper: target logit s · (cos(m1·θ + m2) - m3), all three
// margins honoured together (InsightFace's PyTorch CombinedMarginLoss drops m2 when m3 > 0).
// Beyond m1·θ + m2 = π the target continues linearly in cos θ (core/margin_math.h).
class CombinedMarginProductImpl : public MarginProductImpl {
 public:
  CombinedMarginProductImpl(int64_t in_features, int64_t out_features, double s = 64.0, double m1 = 1.0,
                            double m2 = 0.30, double m3 = 0.20);
  void pretty_print(std::ostream& os) const override;
  double s, m1, m2, m3;
};
FACET_MODULE(CombinedMarginProduct);

// Sub-center ArcFace: K sub-centers per class (W [classes · K, in_features], class c owning rows
// c·K .. c·K + K - 1); a class's cos θ is the max over its sub-centers, then ArcFace as above.
class SubCenterArcMarginProductImpl : public MarginProductImpl {
 public:
  SubCenterArcMarginProductImpl(int64_t in_features, int64_t out_features, int64_t k = 3, double s = 30.0,
                                double m = 0.50, bool easy_margin = false);
  Tensor cosine(const Tensor& x) const override;
  void pretty_print(std::ostream& os) const override;
  int64_t k;
  double s, m;
  bool easy_margin;
};
FACET_MODULE(SubCenterArcMarginProduct);

}  // namespace facet::nn
