// End to end through the layers: a small CNN (conv-bn-prelu-pool twice, then linear) fits 256
// synthetic images to 100% training accuracy on the CPU.
#include "tests/helpers.h"

using namespace facet;

namespace {

struct SmallCnnImpl : nn::Module {
  nn::Sequential features{nullptr};
  nn::Linear classifier{nullptr};
  SmallCnnImpl() : nn::Module("SmallCnn") {
    features = register_module(
        "features", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::BatchNorm2d(8), nn::PReLU(8),
                                   nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(8, 16, 3).padding(1)),
                                   nn::BatchNorm2d(16), nn::PReLU(16), nn::MaxPool2d(2), nn::Flatten()));
    classifier = register_module("classifier", nn::Linear(16 * 3 * 3, 4));
  }
  Tensor forward(const Tensor& x) const { return classifier(features(x)); }
};
FACET_MODULE(SmallCnn);

}  // namespace

TEST_CASE("a small CNN fits 256 synthetic images to 100% training accuracy") {
  constexpr int64_t kImages = 256, kClasses = 4, kSide = 12;
  Generator gen(7);
  // Class k: a bright 4x4 square in quadrant k, on noise.
  const Tensor labels = ops::cast(ops::binary(BinaryOp::Mul, rand({kImages}, kFloat64, &gen), kClasses), kInt64);
  Tensor images = randn({kImages, 1, kSide, kSide}, kFloat32, &gen) * 0.5;
  {
    NoGradGuard no_grad;
    const std::vector<int64_t> y = labels.to_vector<int64_t>();
    for (int64_t i = 0; i < kImages; ++i) {
      const int64_t top = (y[i] / 2) * 6 + 1, left = (y[i] % 2) * 6 + 1;
      images.narrow(0, i, 1).narrow(2, top, 4).narrow(3, left, 4).add_(full({1, 1, 4, 4}, 2.0));
    }
  }
  manual_seed(1);
  SmallCnn net;
  optim::Adam opt(net->parameters(), optim::AdamOptions(0.01));
  const Tensor target = one_hot(labels, kClasses);
  for (int epoch = 0; epoch < 30; ++epoch) {
    opt.zero_grad();
    const Tensor loss = -(log_softmax(net(images), 1) * target).sum() / static_cast<double>(kImages);
    loss.backward();
    opt.step();
  }
  net->eval();
  NoGradGuard no_grad;
  const int64_t correct = eq(net(images).argmax(1), labels).sum().item<int64_t>();
  CHECK(correct == kImages);
}
