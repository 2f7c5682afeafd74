#pragma once
// The example's backbones: images [B, 1, 28, 28] in, features [B, feat_dim] out.
//   lenetpp  the Center-loss paper's LeNet++: three stages of two 5x5 convolutions with PReLU at
//            32, 64 and 128 channels, each stage closed by 2x2 max-pooling, then a linear feature
//            layer (2-D for the paper's pictures); He-initialized convolutions, as it has no
//            BatchNorm.
//   cnn      a LeNet-sized CNN with BatchNorm: two stages of two 3x3 conv-BN-PReLU at 32 and 64
//            channels with max-pooling, then linear + BatchNorm1d features.
//   resnet   a small ResNet: a 3x3 stem at W channels, BasicBlock stages at W, 2W and 4W
//            (stride 2 between), global average pooling, then linear + BatchNorm1d features;
//            the width W is 32 unless --width says otherwise.
#include <cstdint>
#include <memory>
#include <string>

#include "facet.h"

namespace example {

class Backbone : public facet::nn::Module {
 public:
  using facet::nn::Module::Module;
  virtual facet::Tensor forward(const facet::Tensor& x) = 0;
};

// The ResNet's width when --width is not given.
constexpr int64_t kResNetWidth = 32;

// facet::Error for an unknown name, and for a width (0: the model's own) on a model without one.
std::shared_ptr<Backbone> make_backbone(const std::string& name, int64_t feat_dim, int64_t width = 0);

}  // namespace example
