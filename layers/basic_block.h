#pragma once
#include <cstdint>

#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/module.h"
#include "layers/sequential.h"

namespace facet::nn {

// ResNet's BasicBlock (He et al., 2016): conv3x3-bn-relu-conv3x3-bn plus the input, then relu.
// When the stride or the channel count changes, the shortcut is a 1x1 convolution and a
// batchnorm ("downsample"), as in torchvision, so state-dict names match its resnet18/34.
class BasicBlockImpl : public Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride = 1);
  Tensor forward(const Tensor& x);

  Conv2d conv1{nullptr}, conv2{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr};
  Sequential downsample{nullptr};  // empty when the shortcut is the identity

 private:
  // The zero slope that makes bn1's fused PReLU a ReLU, in x's dtype and on its device.
  Tensor relu_slope(const Tensor& x);
  Tensor relu_slope_;  // kept between forwards; not a buffer, so not in the state dict
};
FACET_MODULE(BasicBlock);

}  // namespace facet::nn
