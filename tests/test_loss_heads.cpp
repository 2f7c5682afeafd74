// cross_entropy and the margin heads: values against float64 references computed from the
// definitions, gradchecks for every head and branch, the fused path against the composed one,
// NaN-free behaviour at cos = ±1, zero vectors and large s, and the label checks.
#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/helpers.h"

using namespace facet;

namespace {

// Float64 reference of the per-row loss of cross_entropy(z, y) with label smoothing e.
std::vector<double> reference_rows(const std::vector<double>& z, const std::vector<int64_t>& y, int64_t classes, double e) {
  std::vector<double> out;
  for (size_t i = 0; i < y.size(); ++i) {
    const double* row = z.data() + i * classes;
    double mx = row[0];
    for (int64_t j = 1; j < classes; ++j) mx = std::max(mx, row[j]);
    double total = 0;
    for (int64_t j = 0; j < classes; ++j) total += std::exp(row[j] - mx);
    const double lse = mx + std::log(total);
    double nll_mean = 0;
    for (int64_t j = 0; j < classes; ++j) nll_mean += (lse - row[j]) / classes;
    out.push_back((1 - e) * (lse - row[y[i]]) + e * nll_mean);
  }
  return out;
}

Tensor labels_of(const std::vector<int64_t>& y) { return tensor(y); }

// Every element finite.
bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

using HeadFactory = std::function<std::shared_ptr<nn::MarginProductImpl>(int64_t in, int64_t out)>;

struct NamedHead {
  std::string name;
  HeadFactory make;
};

std::vector<NamedHead> margin_heads() {
  return {
      {"CosFace", [](int64_t in, int64_t out) { return nn::AddMarginProduct(in, out).ptr(); }},
      {"ArcFace", [](int64_t in, int64_t out) { return nn::ArcMarginProduct(in, out).ptr(); }},
      {"ArcFace easy_margin", [](int64_t in, int64_t out) { return nn::ArcMarginProduct(in, out, 30.0, 0.5, true).ptr(); }},
      {"combined", [](int64_t in, int64_t out) { return nn::CombinedMarginProduct(in, out).ptr(); }},
      {"sub-center ArcFace", [](int64_t in, int64_t out) { return nn::SubCenterArcMarginProduct(in, out, 3).ptr(); }},
  };
}

// Features whose target cosines cover every branch: rows 0 and 1 point at their class weight
// (θ near 0), rows 2 and 3 away from it (θ near π: ArcFace's th/mm fallback, the combined
// margin's continuation), the rest at random.
Tensor branch_covering_features(const Tensor& weight, const std::vector<int64_t>& y, int64_t rows, DType dtype,
                                uint64_t seed, int64_t subcenters = 1) {
  Generator gen(seed);
  const int64_t dim = weight.size(1);
  std::vector<double> w = weight.to_vector<double>();
  std::vector<double> x = uniform({rows, dim}, -1.0, 1.0, kFloat64, &gen).to_vector<double>();
  for (int64_t i = 0; i < 4 && i < rows; ++i)
    for (int64_t d = 0; d < dim; ++d)
      x[i * dim + d] = (i < 2 ? 2.0 : -2.0) * w[(y[i] * subcenters) * dim + d] + 0.05 * x[i * dim + d];
  return tensor(x, {rows, dim}).to(dtype);
}

}  // namespace

TEST_SUITE("loss heads") {
  TEST_CASE("cross_entropy: per-row losses, mean, sum and label smoothing against float64") {
    Generator gen(3);
    const int64_t rows = 6, classes = 5;
    const Tensor z = randn({rows, classes}, kFloat32, &gen) * 4.0;
    const std::vector<int64_t> y = {0, 4, 2, 2, 1, 3};
    const std::vector<double> zd = z.to_vector<double>();
    for (double e : {0.0, 0.1, 1.0}) {
      const std::vector<double> ref = reference_rows(zd, y, classes, e);
      CHECK(tests::rel_error(nn::cross_entropy(z, labels_of(y), nn::Reduction::None, e), ref) < 1e-6);
      double total = 0;
      for (double v : ref) total += v;
      CHECK(nn::cross_entropy(z, labels_of(y), nn::Reduction::Sum, e).item<double>() == doctest::Approx(total).epsilon(1e-6));
      CHECK(nn::cross_entropy(z, labels_of(y), nn::Reduction::Mean, e).item<double>() ==
            doctest::Approx(total / rows).epsilon(1e-6));
    }
    // Logits of 1e4 do not overflow.
    const Tensor big = tensor(std::vector<float>{1e4f, 0.0f, -1e4f, 1e4f}, {2, 2});
    CHECK(nn::cross_entropy(big, labels_of({0, 0}), nn::Reduction::None).to_vector<double>() ==
          std::vector<double>{0.0, 2e4});
  }

  TEST_CASE("cross_entropy: gradcheck, with and without label smoothing, each reduction") {
    const std::vector<int64_t> y = {1, 0, 3};
    for (double e : {0.0, 0.2})
      for (nn::Reduction r : {nn::Reduction::Mean, nn::Reduction::Sum, nn::Reduction::None})
        FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], labels_of(y), r, e); },
                         {tests::grad_input({3, 4}, 11, -3, 3)});
  }

  TEST_CASE("bad labels: out of range, negative, wrong length, wrong dtype, wrong rank") {
    const Tensor z = zeros({3, 4});
    tests::expect_error([&] { nn::cross_entropy(z, labels_of({0, 4, 1})); }, {"labels in [0, 4)", "value 4 at position 1"});
    tests::expect_error([&] { nn::cross_entropy(z, labels_of({0, -1, 1})); }, {"labels in [0, 4)", "value -1"});
    tests::expect_error([&] { nn::cross_entropy(z, labels_of({0, 1})); }, {"labels [3], one per sample", "int64[2]"});
    tests::expect_error([&] { nn::cross_entropy(z, zeros({3})); }, {"int64 labels", "float32"});
    tests::expect_error([&] { nn::cross_entropy(z, zeros({3, 1}, kInt64)); }, {"labels [3]"});
    tests::expect_error([&] { nn::cross_entropy(zeros({3}), labels_of({0, 1, 2})); }, {"[batch, classes]"});
    tests::expect_error([&] { nn::cross_entropy(z, labels_of({0, 1, 2}), nn::Reduction::Mean, 1.5); },
                        {"label_smoothing in [0, 1]"});
    nn::ArcMarginProduct head(4, 3);
    tests::expect_error([&] { head->loss(zeros({2, 4}), labels_of({0, 3})); }, {"labels in [0, 3)"});
    tests::expect_error([&] { head(zeros({2, 4}), labels_of({0, 3})); }, {"apply_margin", "labels in [0, 3)"});
    tests::expect_error([&] { head(zeros({2, 5}), labels_of({0, 1})); }, {"ArcMarginProduct", "features [batch, 4]"});
    nn::CenterLoss center(3, 4);
    tests::expect_error([&] { center(zeros({2, 4}), labels_of({0, 5})); }, {"CenterLoss", "labels in [0, 3)"});
    tests::expect_error([&] { center(zeros({2, 4}), labels_of({0})); }, {"CenterLoss", "labels [2]"});
  }

  TEST_CASE("the heads keep the reference code's names, defaults and xavier-uniform weights") {
    nn::AddMarginProduct cosface(128, 10);
    CHECK(cosface->s == 30.0);
    CHECK(cosface->m == doctest::Approx(0.40));
    nn::ArcMarginProduct arcface(128, 10);
    CHECK(arcface->s == 30.0);
    CHECK(arcface->m == doctest::Approx(0.50));
    CHECK_FALSE(arcface->easy_margin);
    CHECK(arcface->named_parameters().at(0).first == "weight");
    CHECK(arcface->weight.shape() == Shape{10, 128});
    const double bound = std::sqrt(6.0 / (128 + 10));
    double largest = 0;
    for (double v : arcface->weight.to_vector<double>()) largest = std::max(largest, std::fabs(v));
    CHECK(largest <= bound);
    CHECK(largest > 0.9 * bound);
    nn::SubCenterArcMarginProduct sub(16, 10, 3);
    CHECK(sub->weight.shape() == Shape{30, 16});
    std::ostringstream os;
    os << *arcface;
    CHECK(os.str() == "ArcMarginProduct(in_features=128, out_features=10, s=30, m=0.5, easy_margin=false)");
  }

  TEST_CASE("ArcFace forward: logits by hand from the reference definition") {
    // Two classes in 2-D with W = I: cos θ is the normalized feature's coordinates.
    nn::ArcMarginProduct head(2, 2, 30.0, 0.5, false);
    ops::copy_(head->weight, tensor(std::vector<float>{1, 0, 0, 1}, {2, 2}));
    const Tensor x = tensor(std::vector<float>{3, 4, -4, -3}, {2, 2});  // cos: (0.6, 0.8) and (-0.8, -0.6)
    const std::vector<double> logits = head(x, labels_of({0, 1})).to_vector<double>();
    const double phi0 = 0.6 * std::cos(0.5) - 0.8 * std::sin(0.5);  // row 0, label 0, above th
    const double phi1 = -0.6 * std::cos(0.5) - 0.8 * std::sin(0.5);
    CHECK(-0.6 > head->spec().th);  // row 1's target is above th: phi, not the fallback
    CHECK(tests::rel_error(std::vector<double>(logits), {30 * phi0, 30 * 0.8, 30 * -0.8, 30 * phi1}) < 1e-6);
    // The loss is cross_entropy of these logits.
    const std::vector<double> ref = reference_rows({30 * phi0, 24.0, -24.0, 30 * phi1}, {0, 1}, 2, 0.0);
    CHECK(head->loss(x, labels_of({0, 1})).item<double>() == doctest::Approx((ref[0] + ref[1]) / 2).epsilon(1e-6));
  }

  TEST_CASE("CosFace forward: s (cos - m) at the label, s cos elsewhere") {
    nn::AddMarginProduct head(2, 2);
    ops::copy_(head->weight, tensor(std::vector<float>{1, 0, 0, 1}, {2, 2}));
    const Tensor x = tensor(std::vector<float>{3, 4}, {1, 2});
    CHECK(tests::rel_error(head(x, labels_of({1})), {30 * 0.6, 30 * (0.8 - 0.4)}) < 1e-6);
  }

  TEST_CASE("fused equals composed for every head: loss and gradients of x and W, float32, within 1e-5") {
    const int64_t rows = 12, dim = 8, classes = 7;
    const std::vector<int64_t> y = {3, 0, 6, 2, 1, 1, 5, 4, 0, 2, 6, 3};
    for (const NamedHead& h : margin_heads())
      for (double e : {0.0, 0.1}) {
        INFO(h.name << ", label smoothing " << e);
        const auto head = h.make(dim, classes);
        const int64_t k = head->weight.size(0) / classes;
        const Tensor x0 = branch_covering_features(head->weight, y, rows, kFloat32, 5, k);
        auto run = [&](bool fused) {
          head->zero_grad();
          Tensor x = x0.clone().set_requires_grad(true);
          const Tensor loss = fused ? head->loss(x, labels_of(y), nn::Reduction::Mean, e)
                                    : nn::cross_entropy((*head).forward(x, labels_of(y)), labels_of(y), nn::Reduction::Mean, e);
          loss.backward();
          return std::vector<Tensor>{loss, x.grad(), head->weight.grad()};
        };
        const std::vector<Tensor> fused = run(true), composed = run(false);
        CHECK(fused[0].item<double>() == doctest::Approx(composed[0].item<double>()).epsilon(1e-5));
        CHECK(tests::rel_error(fused[1], composed[1].to_vector<double>()) < 1e-5);
        CHECK(tests::rel_error(fused[2], composed[2].to_vector<double>()) < 1e-5);
      }
  }

  TEST_CASE("gradcheck of every head, fused and composed, in float64 across the branches") {
    const int64_t rows = 6, dim = 3, classes = 4;
    const std::vector<int64_t> y = {2, 0, 1, 3, 0, 2};
    for (const NamedHead& h : margin_heads())
      for (bool fused : {true, false}) {
        INFO(h.name << (fused ? ", fused" : ", composed"));
        const auto head = h.make(dim, classes);
        head->to(kFloat64);
        const int64_t k = head->weight.size(0) / classes;
        Tensor x = branch_covering_features(head->weight, y, rows, kFloat64, 8, k).set_requires_grad(true);
        // The smaller scale keeps the softmax away from saturation, where differences lose digits.
        const MarginSpec spec = [&] {
          MarginSpec p = head->spec();
          p.scale = 4.0;
          return p;
        }();
        FACET_CHECK_GRAD(
            [&](const std::vector<Tensor>& in) {
              Tensor cos = linear(normalize(in[0], 1), normalize(in[1], 1));
              if (k > 1) cos = max(cos.reshape({rows, classes, k}), 2);
              return fused ? nn::margin_cross_entropy(cos, labels_of(y), spec)
                           : nn::cross_entropy(nn::apply_margin(cos, labels_of(y), spec), labels_of(y));
            },
            {x, head->weight});
      }
  }

  TEST_CASE("no NaN or inf: features equal to their class weight, zero features, zero weights, huge s") {
    const int64_t dim = 4, classes = 3;
    for (const NamedHead& h : margin_heads()) {
      INFO(h.name);
      const auto head = h.make(dim, classes);
      const int64_t k = head->weight.size(0) / classes;
      std::vector<double> w = head->weight.to_vector<double>();
      for (int64_t d = 0; d < dim; ++d) w[(2 * k) * dim + d] = 0.0;  // class 2 (its first sub-center): a zero row
      ops::copy_(head->weight, tensor(w, {classes * k, dim}));
      std::vector<double> xs;
      for (int64_t d = 0; d < dim; ++d) xs.push_back(w[d]);             // x = W[0]: cos = 1
      for (int64_t d = 0; d < dim; ++d) xs.push_back(-w[k * dim + d]);  // x = -W[1]: cos = -1
      for (int64_t d = 0; d < dim; ++d) xs.push_back(0.0);              // zero feature
      for (int64_t d = 0; d < dim; ++d) xs.push_back(w[d] + 0.5);       // label 2: a zero weight row
      const std::vector<int64_t> y = {0, 1, 1, 2};
      for (bool fused : {true, false}) {
        head->zero_grad();
        Tensor x = tensor(xs, {4, dim}).to(kFloat32).set_requires_grad(true);
        const Tensor loss = fused ? head->loss(x, labels_of(y)) : nn::cross_entropy((*head).forward(x, labels_of(y)), labels_of(y));
        loss.backward();
        CHECK(all_finite(loss));
        CHECK(all_finite(x.grad()));
        CHECK(all_finite(head->weight.grad()));
      }
    }
    // s = 1e4 with cos near ±1: logits of 1e4 stay finite through the softmax.
    nn::ArcMarginProduct big(4, 3, 1e4, 0.5, false);
    Tensor x = randn({5, 4}).set_requires_grad(true);
    const Tensor loss = big->loss(x, labels_of({0, 1, 2, 0, 1}));
    loss.backward();
    CHECK(all_finite(loss));
    CHECK(all_finite(x.grad()));
  }

  TEST_CASE("sub-center ArcFace: a class's cos is the max over its K sub-centers") {
    nn::SubCenterArcMarginProduct head(2, 2, 2);
    // Class 0: sub-centers (1, 0) and (0, 1); class 1: (-1, 0) and (0, -1).
    ops::copy_(head->weight, tensor(std::vector<float>{1, 0, 0, 1, -1, 0, 0, -1}, {4, 2}));
    const Tensor cos = head->cosine(tensor(std::vector<float>{3, 4}, {1, 2}));
    CHECK(tests::rel_error(cos, {0.8, -0.6}) < 1e-6);
  }

  TEST_CASE("SphereFace: lambda anneals as the reference, logits by hand, gradcheck, NaN-free at x = 0") {
    nn::SphereProduct head(2, 2, 4);
    CHECK(head->lambda() == doctest::Approx(1000.0 / 1.12));
    ops::copy_(head->weight, tensor(std::vector<float>{1, 0, 0, 1}, {2, 2}));
    const Tensor x = tensor(std::vector<float>{3, 4}, {1, 2});  // |x| = 5, cos = (0.6, 0.8)
    const double lam = head->lambda();
    const std::vector<double> logits = head(x, labels_of({0})).to_vector<double>();
    // θ = acos 0.6: k = floor(4θ/π) = 1, psi = -cos 4θ - 2.
    const double theta = std::acos(0.6), psi = -std::cos(4 * theta) - 2;
    CHECK(tests::rel_error(logits, {5 * (0.6 + (psi - 0.6) / (1 + lam)), 5 * 0.8}) < 1e-6);
    // One forward in training advanced the schedule; eval does not.
    CHECK(head->lambda() == doctest::Approx(1000.0 / 1.24));
    head->eval();
    head(x, labels_of({0}));
    CHECK(head->lambda() == doctest::Approx(1000.0 / 1.24));
    ops::copy_(head->iteration, scalar_tensor(20000, kInt64).reshape({1}));
    CHECK(head->lambda() == 5.0);  // 1000 / (1 + 0.12 · 20001) < 5: the floor
    // gradcheck (eval, so lambda holds still between evaluations).
    head->to(kFloat64);
    ops::copy_(head->iteration, scalar_tensor(10, kInt64).reshape({1}));
    FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return head->loss(in[0], labels_of({1, 0, 1})); },
                     {tests::grad_input({3, 2}, 21), head->weight});
    // A zero feature: finite loss and gradients.
    head->to(kFloat32);
    Tensor zero = zeros({1, 2}).set_requires_grad(true);
    head->loss(zero, labels_of({1})).backward();
    CHECK(all_finite(zero.grad()));
  }
}
