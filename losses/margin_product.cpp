#include "losses/margin_product.h"

#include <ostream>

#include "autograd/functions.h"
#include "core/factory.h"
#include "core/ops.h"
#include "layers/init.h"
#include "losses/margin_logits.h"

namespace facet::nn {

MarginProductImpl::MarginProductImpl(const char* type, int64_t in, int64_t out, int64_t weight_rows,
                                     const MarginSpec& spec)
    : Module(type), in_features(in), out_features(out), spec_(spec) {
  FACET_CHECK(in > 0 && out > 0, type, "positive in_features and out_features",
              std::to_string(in) + " and " + std::to_string(out));
  ops::check_margin_spec(type, spec);
  weight = register_parameter("weight", empty({weight_rows, in}));
  init::xavier_uniform_(weight);
}

void MarginProductImpl::check_features(const char* op, const Tensor& x) const {
  FACET_CHECK(x.defined() && x.dim() == 2 && x.size(1) == in_features, op,
              "features [batch, " + std::to_string(in_features) + "]", x.defined() ? x.describe() : "an undefined tensor");
}

Tensor MarginProductImpl::cosine(const Tensor& x) const {
  check_features(type_name().c_str(), x);
  return linear(normalize(x, 1), normalize(weight, 1));
}

Tensor MarginProductImpl::forward(const Tensor& x, const Tensor& labels) const {
  return apply_margin(cosine(x), labels, spec_);
}

Tensor MarginProductImpl::loss(const Tensor& x, const Tensor& labels, Reduction reduction, double label_smoothing) const {
  return margin_cross_entropy(cosine(x), labels, spec_, reduction, label_smoothing);
}

AddMarginProductImpl::AddMarginProductImpl(int64_t in, int64_t out, double s_, double m_)
    : MarginProductImpl("AddMarginProduct", in, out, out, margin_cosface(s_, m_)), s(s_), m(m_) {}

void AddMarginProductImpl::pretty_print(std::ostream& os) const {
  os << "AddMarginProduct(in_features=" << in_features << ", out_features=" << out_features << ", s=" << s
     << ", m=" << m << ")";
}

ArcMarginProductImpl::ArcMarginProductImpl(int64_t in, int64_t out, double s_, double m_, bool easy)
    : MarginProductImpl("ArcMarginProduct", in, out, out, margin_arcface(s_, m_, easy)), s(s_), m(m_), easy_margin(easy) {}

void ArcMarginProductImpl::pretty_print(std::ostream& os) const {
  os << "ArcMarginProduct(in_features=" << in_features << ", out_features=" << out_features << ", s=" << s
     << ", m=" << m << ", easy_margin=" << (easy_margin ? "true" : "false") << ")";
}

CombinedMarginProductImpl::CombinedMarginProductImpl(int64_t in, int64_t out, double s_, double m1_, double m2_,
                                                     double m3_)
    : MarginProductImpl("CombinedMarginProduct", in, out, out, margin_combined(s_, m1_, m2_, m3_)),
      s(s_), m1(m1_), m2(m2_), m3(m3_) {}

void CombinedMarginProductImpl::pretty_print(std::ostream& os) const {
  os << "CombinedMarginProduct(in_features=" << in_features << ", out_features=" << out_features << ", s=" << s
     << ", m1=" << m1 << ", m2=" << m2 << ", m3=" << m3 << ")";
}

namespace {
int64_t checked_subcenters(int64_t out, int64_t k) {
  FACET_CHECK(k >= 1, "SubCenterArcMarginProduct", "k >= 1 sub-centers per class", "k = " + std::to_string(k));
  return out * k;
}
}  // namespace

SubCenterArcMarginProductImpl::SubCenterArcMarginProductImpl(int64_t in, int64_t out, int64_t k_, double s_,
                                                             double m_, bool easy)
    : MarginProductImpl("SubCenterArcMarginProduct", in, out, checked_subcenters(out, k_),
                        margin_arcface(s_, m_, easy)),
      k(k_), s(s_), m(m_), easy_margin(easy) {}

Tensor SubCenterArcMarginProductImpl::cosine(const Tensor& x) const {
  const Tensor all = MarginProductImpl::cosine(x);  // [B, classes · K]
  return max(all.reshape({x.size(0), out_features, k}), 2);
}

void SubCenterArcMarginProductImpl::pretty_print(std::ostream& os) const {
  os << "SubCenterArcMarginProduct(in_features=" << in_features << ", out_features=" << out_features << ", k=" << k
     << ", s=" << s << ", m=" << m << ", easy_margin=" << (easy_margin ? "true" : "false") << ")";
}

}  // namespace facet::nn
