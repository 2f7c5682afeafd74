#include "examples/fashion_mnist/models.h"

namespace example {

using namespace facet;

namespace {

constexpr double kPReLUInitialSlope = 0.25;  // PReLU's default

class LeNetPP : public Backbone {
 public:
  explicit LeNetPP(int64_t feat_dim) : Backbone("LeNetPP") {
    // He initialization for PReLU's starting slope, zero bias: with PyTorch's default (variance
    // 1/(3 fan_in)) each of the six convolutions, with no BatchNorm after it, shrinks the signal's
    // variance about 5x, and the net hardly trains (softmax, 2-D features, one epoch of 20 000
    // images at --lr 0.01: 17% test accuracy; 65% with this initialization).
    auto conv = [](int64_t in, int64_t out) {
      nn::Conv2d c(nn::Conv2dOptions(in, out, 5).padding(2));
      nn::init::kaiming_normal_(c->weight, kPReLUInitialSlope);
      nn::init::zeros_(c->bias);
      return c;
    };
    body = register_module("body", nn::Sequential(conv(1, 32), nn::PReLU(32), conv(32, 32), nn::PReLU(32), nn::MaxPool2d(2),
                                                  conv(32, 64), nn::PReLU(64), conv(64, 64), nn::PReLU(64), nn::MaxPool2d(2),
                                                  conv(64, 128), nn::PReLU(128), conv(128, 128), nn::PReLU(128),
                                                  nn::MaxPool2d(2)));
    embed = register_module("embed", nn::Linear(128 * 3 * 3, feat_dim));
  }
  Tensor forward(const Tensor& x) override { return embed(body(x).flatten(1)); }

  nn::Sequential body{nullptr};
  nn::Linear embed{nullptr};
};

class SmallCnn : public Backbone {
 public:
  explicit SmallCnn(int64_t feat_dim) : Backbone("SmallCnn") {
    auto block = [](int64_t in, int64_t out) {
      return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)), nn::BatchNorm2d(out),
                            nn::PReLU(out));
    };
    body = register_module("body", nn::Sequential(block(1, 32), block(32, 32), nn::MaxPool2d(2), block(32, 64),
                                                  block(64, 64), nn::MaxPool2d(2)));
    embed = register_module("embed", nn::Linear(64 * 7 * 7, feat_dim));
    bn = register_module("bn", nn::BatchNorm1d(feat_dim));
  }
  Tensor forward(const Tensor& x) override { return bn(embed(body(x).flatten(1))); }

  nn::Sequential body{nullptr};
  nn::Linear embed{nullptr};
  nn::BatchNorm1d bn{nullptr};
};

class SmallResNet : public Backbone {
 public:
  SmallResNet(int64_t feat_dim, int64_t w) : Backbone("SmallResNet") {
    body = register_module("body", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, w, 3).padding(1).bias(false)),
                                                  nn::BatchNorm2d(w), nn::ReLU(), nn::BasicBlock(w, w),
                                                  nn::BasicBlock(w, w), nn::BasicBlock(w, 2 * w, 2),
                                                  nn::BasicBlock(2 * w, 2 * w), nn::BasicBlock(2 * w, 4 * w, 2),
                                                  nn::BasicBlock(4 * w, 4 * w), nn::GlobalAvgPool2d()));
    embed = register_module("embed", nn::Linear(4 * w, feat_dim));
    bn = register_module("bn", nn::BatchNorm1d(feat_dim));
  }
  Tensor forward(const Tensor& x) override { return bn(embed(body(x).flatten(1))); }

  nn::Sequential body{nullptr};
  nn::Linear embed{nullptr};
  nn::BatchNorm1d bn{nullptr};
};

}  // namespace

std::shared_ptr<Backbone> make_backbone(const std::string& name, int64_t feat_dim, int64_t width) {
  FACET_CHECK(feat_dim > 0, "--feat-dim", "a positive feature size", std::to_string(feat_dim));
  FACET_CHECK(width >= 0, "--width", "a positive width", std::to_string(width));
  FACET_CHECK(width == 0 || name == "resnet", "--width", "--model resnet (the only model with a width)", name);
  if (name == "lenetpp") return std::make_shared<LeNetPP>(feat_dim);
  if (name == "cnn") return std::make_shared<SmallCnn>(feat_dim);
  if (name == "resnet") return std::make_shared<SmallResNet>(feat_dim, width > 0 ? width : kResNetWidth);
  throw Error("--model", "lenetpp, cnn or resnet", "\"" + name + "\"");
}

}  // namespace example
