// The whole pipeline on real data: Fashion-MNIST from Debian's dataset-fashion-mnist, the
// DataLoader, a small CNN, the fused ArcFace head and SGD, for one short epoch on the CPU.
// Skipped (and counted so) where the dataset is not installed.
#include <filesystem>

#include "data/dataloader.h"
#include "data/dataset.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

bool have_fashion_mnist() {
  const std::string dir = data::kFashionMnistDir;
  return std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz") ||
         std::filesystem::exists(dir + "/train-images-idx3-ubyte");
}

struct SmokeNet : nn::Module {
  nn::Sequential body{nullptr};
  nn::Linear embed{nullptr};
  SmokeNet() {
    body = register_module("body", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::BatchNorm2d(8),
                                                  nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(8, 16, 3).padding(1)),
                                                  nn::BatchNorm2d(16), nn::ReLU(), nn::MaxPool2d(2)));
    embed = register_module("embed", nn::Linear(16 * 7 * 7, 32));
  }
  Tensor forward(const Tensor& x) { return embed(body(x).flatten(1)); }
};

data::TensorDataset first(const data::TensorDataset& set, int64_t n) {
  return data::TensorDataset(ops::narrow(set.images(), 0, 0, n), ops::narrow(set.labels(), 0, 0, n));
}

}  // namespace

TEST_CASE("one epoch on 2,000 Fashion-MNIST images: a small CNN with ArcFace passes 60% on 1,000 test images" *
          doctest::skip(!have_fashion_mnist())) {
  manual_seed(3);
  const auto normalize = data::normalize({0.2860f}, {0.3530f});
  data::DataLoader train(first(data::load_mnist(data::kFashionMnistDir, data::Split::Train), 2000),
                         data::DataLoaderOptions(25).shuffle(true).seed(3).transform(normalize));
  SmokeNet net;
  nn::ArcMarginProduct head(32, 10, 16.0, 0.3);
  optim::SGD opt({net.parameters(), head.parameters()}, optim::SGDOptions(0.05).momentum(0.9));
  for (auto& [x, y] : train) {
    const Tensor loss = head->loss(net.forward(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  net.eval();
  NoGradGuard no_grad;
  data::DataLoader test(first(data::load_mnist(data::kFashionMnistDir, data::Split::Test), 1000),
                        data::DataLoaderOptions(500).transform(normalize));
  int64_t correct = 0;
  for (auto& [x, y] : test) correct += eq(argmax(head->cosine(net.forward(x)), 1), y).sum().item<int64_t>();
  // 66.1% with 2 threads and 66.3% with 1 when written (80 steps of 25 images; chance is 10%).
  MESSAGE("test accuracy after one epoch: " << correct / 10.0 << "%");
  CHECK(correct >= 600);
}
