// The README's (and DESIGN.md's) example, as written, on a loader over 64 random images: it must
// compile and run, train (finite losses, weights that move) and save under PyTorch's names.
#include <cmath>
#include <filesystem>
#include <sstream>

#include "data/dataloader.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

struct Net : nn::Module {
  nn::Sequential body;
  nn::Linear embed{nullptr};
  Net() {
    body = register_module("body", nn::Sequential(
        nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::BatchNorm2d(32), nn::PReLU(32), nn::MaxPool2d(2),
        nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)), nn::BatchNorm2d(64), nn::PReLU(64), nn::MaxPool2d(2)));
    embed = register_module("embed", nn::Linear(64 * 7 * 7, 128));
  }
  Tensor forward(const Tensor& x) { return embed(body(x).flatten(1)); }
};

}  // namespace

TEST_CASE("the README example runs as written: finite losses, moving weights, state-dict names") {
  Generator gen(5);
  const Tensor images = rand({64, 1, 28, 28}, kFloat32, &gen);
  std::vector<int64_t> labels(64);
  for (int64_t i = 0; i < 64; ++i) labels[i] = i % 10;
  data::DataLoader loader(data::TensorDataset(images, tensor(labels)), data::DataLoaderOptions(64));
  const std::string path = (std::filesystem::temp_directory_path() / "facet_readme_net.safetensors").string();

  Device dev = Device::best();                       // CUDA when a GPU is there, else the CPU
  Net net; net.to(dev);
  const std::vector<float> initial = net.embed->weight.to_vector<float>();
  nn::ArcMarginProduct head(128, 10, /*s=*/30.0, /*m=*/0.50, /*easy_margin=*/false); head.to(dev);
  optim::SGD opt({net.parameters(), head.parameters()}, optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  optim::StepLR schedule(opt, /*step_size=*/10, /*gamma=*/0.1);
  std::vector<double> losses;
  for (int epoch = 0; epoch < 3; ++epoch)
    for (auto [x, y] : loader) {
      Tensor loss = nn::cross_entropy(head(net.forward(x.to(dev)), y.to(dev)), y.to(dev));
      opt.zero_grad(); loss.backward(); opt.step();
      losses.push_back(loss.item<double>());
    }
  nn::save(net, path);
  std::ostringstream os;
  os << net;
  CHECK(os.str().rfind("Net(\n  (body): Sequential(\n    (0): Conv2d(1, 32", 0) == 0);
  REQUIRE(losses.size() == 3);
  for (double l : losses) CHECK(std::isfinite(l));
  CHECK(net.embed->weight.to_vector<float>() != initial);
  bool named = false;
  for (const auto& [name, t] : nn::load_tensors(path)) named |= name == "body.0.weight" && t.shape() == Shape{32, 1, 3, 3};
  CHECK(named);
  std::filesystem::remove(path);
}
