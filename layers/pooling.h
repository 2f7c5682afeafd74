#pragma once
#include "layers/conv2d.h"
#include "layers/module.h"

namespace facet::nn {

// Max over each window; the stride defaults to the kernel size, as in PyTorch.
class MaxPool2dImpl : public Module {
 public:
  explicit MaxPool2dImpl(Size2 kernel_size, Size2 stride = 0, Size2 padding = 0)
      : Module("MaxPool2d"), kernel_size(kernel_size), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) const;
  void pretty_print(std::ostream& os) const override;
  Size2 kernel_size, stride, padding;
};
FACET_MODULE(MaxPool2d);

// Mean over each window, padding counted as zeros (count_include_pad = true).
class AvgPool2dImpl : public Module {
 public:
  explicit AvgPool2dImpl(Size2 kernel_size, Size2 stride = 0, Size2 padding = 0)
      : Module("AvgPool2d"), kernel_size(kernel_size), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) const;
  void pretty_print(std::ostream& os) const override;
  Size2 kernel_size, stride, padding;
};
FACET_MODULE(AvgPool2d);

// [N, C, H, W] -> [N, C]: the mean of each channel (AdaptiveAvgPool2d(1) followed by flatten).
class GlobalAvgPool2dImpl : public Module {
 public:
  GlobalAvgPool2dImpl() : Module("GlobalAvgPool2d") {}
  Tensor forward(const Tensor& x) const;
};
FACET_MODULE(GlobalAvgPool2d);

}  // namespace facet::nn
