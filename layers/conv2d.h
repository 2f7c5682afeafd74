#pragma once
#include <cstdint>

#include "autograd/functions.h"
#include "layers/module.h"

namespace facet::nn {

// A size given as one number (square) or two ({h, w}), as libtorch's ExpandingArray.
struct Size2 {
  Size2(int64_t v) : h(v), w(v) {}
  Size2(int64_t h, int64_t w) : h(h), w(w) {}
  Pair2 pair() const { return {h, w}; }
  int64_t h, w;
};

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  Conv2dOptions& stride(Size2 v) { stride_ = v; return *this; }
  Conv2dOptions& padding(Size2 v) { padding_ = v; return *this; }
  Conv2dOptions& dilation(Size2 v) { dilation_ = v; return *this; }
  Conv2dOptions& bias(bool v) { bias_ = v; return *this; }
  int64_t in_channels_, out_channels_;
  Size2 kernel_size_, stride_ = 1, padding_ = 0, dilation_ = 1;
  bool bias_ = true;
};

// A 2-d convolution over NCHW input: im2col + GEMM (OpenBLAS on the CPU, cuBLAS on the GPU).
// PyTorch's default initialization: kaiming_uniform_(a = sqrt(5)) for the weight, the bias from
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * KH * KW. Groups are not supported.
class Conv2dImpl : public Module {
 public:
  explicit Conv2dImpl(const Conv2dOptions& options);
  Tensor forward(const Tensor& x) const;
  void pretty_print(std::ostream& os) const override;

  Conv2dOptions options;
  Tensor weight, bias;
};
FACET_MODULE(Conv2d);

}  // namespace facet::nn
