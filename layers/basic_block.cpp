#include "layers/basic_block.h"

#include "autograd/functions.h"
#include "core/factory.h"
#include "cuda/graph.h"

namespace facet::nn {

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride) : Module("BasicBlock") {
  conv1 = register_module("conv1", Conv2d(Conv2dOptions(in_channels, out_channels, 3).stride(stride).padding(1).bias(false)));
  bn1 = register_module("bn1", BatchNorm2d(out_channels));
  conv2 = register_module("conv2", Conv2d(Conv2dOptions(out_channels, out_channels, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", BatchNorm2d(out_channels));
  if (stride != 1 || in_channels != out_channels)
    downsample = register_module(
        "downsample",
        Sequential(Conv2d(Conv2dOptions(in_channels, out_channels, 1).stride(stride).bias(false)), BatchNorm2d(out_channels)));
}

// bn1 and its ReLU run as one fused op (batchnorm + PReLU with slope 0): in training the ReLU rides
// in the batchnorm's passes and neither the batchnorm's output nor its gradient is stored. The one
// difference from relu(): a negative input gives -0.0, not 0.0 (0 · x), equal in every comparison.
Tensor BasicBlockImpl::forward(const Tensor& x) {
  const Tensor out = bn2(conv2(bn1->forward_prelu(conv1(x), relu_slope(x))));
  return add_relu(out, downsample.is_empty() ? x : downsample(x));
}

// Made once, not on every forward (on a GPU each new one is an allocation and a fill). One made
// during a CUDA graph capture is not kept: its fill would run only when the graph replays.
Tensor BasicBlockImpl::relu_slope(const Tensor& x) {
  if (relu_slope_.defined() && relu_slope_.dtype() == x.dtype() && relu_slope_.device() == x.device()) return relu_slope_;
  Tensor slope = zeros({1}, x.dtype(), x.device());
  if (!cuda::is_capturing(x.device())) relu_slope_ = slope;
  return slope;
}

}  // namespace facet::nn
