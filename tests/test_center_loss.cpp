// Center loss: the value and both ways of keeping the centers against the formulas of Wen et al.
// on a hand-made batch with a repeated label and a class absent from the batch.
#include <cmath>

#include "tests/helpers.h"

using namespace facet;

namespace {

// Centers c0 = (0, 0), c1 = (1, 1), c2 = (2, 0); features (1, 0), (0, 2) of class 0 and (3, 1) of
// class 2; class 1 is absent. L_C = 1/2 (1 + 4 + 2) / 3 = 7/6.
nn::CenterLoss hand_made(nn::CenterUpdate update, double lambda) {
  nn::CenterLoss center(nn::CenterLossOptions(3, 2).lambda(lambda).alpha(0.5).update(update));
  NoGradGuard no_grad;
  ops::copy_(center->centers, tensor(std::vector<float>{0, 0, 1, 1, 2, 0}, {3, 2}));
  return center;
}

const Tensor& features() {
  static const Tensor x = tensor(std::vector<float>{1, 0, 0, 2, 3, 1}, {3, 2});
  return x;
}

Tensor labels() { return tensor(std::vector<int64_t>{0, 0, 2}); }

}  // namespace

TEST_SUITE("loss heads") {
  TEST_CASE("CenterLoss: lambda · L_C by hand; the paper's rule moves only the centers in the batch") {
    nn::CenterLoss center = hand_made(nn::CenterUpdate::Rule, 0.5);
    CHECK(center->parameters().empty());
    CHECK(center->named_buffers().at(0).first == "centers");
    Tensor x = features().clone().set_requires_grad(true);
    const Tensor loss = center(x, labels());
    CHECK(loss.item<double>() == doctest::Approx(0.5 * 7.0 / 6.0));
    loss.backward();
    // d(lambda L_C)/dx_i = lambda (x_i - c_{y_i}) / B.
    CHECK(tests::rel_error(x.grad(), {0.5 / 3, 0, 0, 0.5 * 2 / 3, 0.5 / 3, 0.5 / 3}) < 1e-6);
    // Δc0 = ((-1, 0) + (0, -2)) / (1 + 2), Δc2 = (-1, -1) / (1 + 1); c <- c - 0.5 Δc; c1 stays.
    center->update_centers(features(), labels());
    CHECK(tests::rel_error(center->centers, {1.0 / 6, 1.0 / 3, 1, 1, 2.25, 0.25}) < 1e-6);
  }

  TEST_CASE("CenterLoss with learnable centers: their gradient is dL_C/dc, not scaled by lambda") {
    nn::CenterLoss center = hand_made(nn::CenterUpdate::Gradient, 0.01);
    REQUIRE(center->parameters().size() == 1);
    Tensor x = features().clone().set_requires_grad(true);
    center(x, labels()).backward();
    // dL_C/dc_j = sum_{y_i = j} (c_j - x_i) / B: c0 gets ((-1, 0) + (0, -2)) / 3, c1 nothing, c2 (-1, -1) / 3.
    CHECK(tests::rel_error(center->centers.grad(), {-1.0 / 3, -2.0 / 3, 0, 0, -1.0 / 3, -1.0 / 3}) < 1e-6);
    CHECK(tests::rel_error(x.grad(), {0.01 / 3, 0, 0, 0.02 / 3, 0.01 / 3, 0.01 / 3}) < 1e-6);
    tests::expect_error([&] { center->update_centers(features(), labels()); }, {"update_centers", "CenterUpdate::Rule"});
  }

  TEST_CASE("CenterLoss: gradcheck of features and learnable centers (lambda = 1)") {
    nn::CenterLoss center(nn::CenterLossOptions(4, 3).update(nn::CenterUpdate::Gradient));
    center->to(kFloat64);
    const Tensor y = tensor(std::vector<int64_t>{1, 3, 1, 0, 1});
    FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return center(in[0], y); },
                     {tests::grad_input({5, 3}, 17), center->centers});
  }

  TEST_CASE("CenterLoss: bad options and inputs") {
    tests::expect_error([] { nn::CenterLoss(nn::CenterLossOptions(3, 2).alpha(0)); }, {"alpha in (0, 1]"});
    tests::expect_error([] { nn::CenterLoss(0, 2); }, {"positive num_classes"});
    nn::CenterLoss center(3, 2);
    tests::expect_error([&] { center(zeros({2, 3}), tensor(std::vector<int64_t>{0, 1})); }, {"features [batch, 2]"});
    tests::expect_error([&] { center(zeros({2, 2}, kFloat64), tensor(std::vector<int64_t>{0, 1})); }, {"dtype and device"});
  }
}
