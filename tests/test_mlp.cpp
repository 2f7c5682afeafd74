// End to end through the public API alone: a 2-layer MLP learns a synthetic separable problem
// with plain SGD, and its loss falls at least tenfold.
#include "tests/helpers.h"

using namespace facet;

TEST_CASE("a 2-layer MLP trained with SGD drives the loss down at least tenfold") {
  constexpr int64_t kSamples = 256, kFeatures = 2, kHidden = 32, kClasses = 2;
  Generator gen(2024);
  // Two Gaussian blobs, centred at (+2, +2) and (-2, -2).
  const Tensor labels_f = ops::binary(BinaryOp::Gt, rand({kSamples}, kFloat32, &gen), 0.5);
  const Tensor labels = labels_f.to(kInt64);
  const Tensor centers = (labels_f * 4.0 - 2.0).unsqueeze(1);
  const Tensor x = randn({kSamples, kFeatures}, kFloat32, &gen) + centers;
  const Tensor target = one_hot(labels, kClasses);

  Tensor w1 = (randn({kHidden, kFeatures}, kFloat32, &gen) * 0.5).set_requires_grad(true);
  Tensor b1 = zeros({kHidden}).set_requires_grad(true);
  Tensor w2 = (randn({kClasses, kHidden}, kFloat32, &gen) * 0.1).set_requires_grad(true);
  Tensor b2 = zeros({kClasses}).set_requires_grad(true);
  std::vector<Tensor*> params{&w1, &b1, &w2, &b2};

  const auto loss_fn = [&] {
    const Tensor logits = linear(relu(linear(x, w1, b1)), w2, b2);
    return -(log_softmax(logits, 1) * target).sum() / static_cast<double>(kSamples);
  };
  const double first = loss_fn().item<float>();
  double last = first;
  for (int step = 0; step < 200; ++step) {
    for (Tensor* p : params) p->zero_grad();
    const Tensor loss = loss_fn();
    last = loss.item<float>();
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor* p : params) p->sub_(p->grad() * 0.5);
  }
  INFO("loss " << first << " -> " << last);
  CHECK(first > 0.3);
  CHECK(last * 10 < first);
  NoGradGuard no_grad;
  const Tensor predicted = linear(relu(linear(x, w1, b1)), w2, b2).argmax(1);
  CHECK(eq(predicted, labels).sum().item<int64_t>() >= kSamples - 2);
}
