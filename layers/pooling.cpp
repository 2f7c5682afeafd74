#include "layers/pooling.h"

#include <ostream>
#include <string>

namespace facet::nn {

Tensor MaxPool2dImpl::forward(const Tensor& x) const {
  return max_pool2d(x, kernel_size.pair(), stride.pair(), padding.pair());
}

namespace {
// "2" for a square size, "(2, 3)" otherwise, as PyTorch prints them.
std::string size_str(Size2 s) {
  if (s.h == s.w) return std::to_string(s.h);
  return std::string("(").append(std::to_string(s.h)).append(", ").append(std::to_string(s.w)).append(")");
}
void print_pool(std::ostream& os, const char* name, Size2 kernel, Size2 stride, Size2 padding) {
  const Size2 effective = stride.h == 0 && stride.w == 0 ? kernel : stride;
  os << name << "(kernel_size=" << size_str(kernel) << ", stride=" << size_str(effective)
     << ", padding=" << size_str(padding) << ")";
}
}  // namespace

void MaxPool2dImpl::pretty_print(std::ostream& os) const { print_pool(os, "MaxPool2d", kernel_size, stride, padding); }

Tensor AvgPool2dImpl::forward(const Tensor& x) const {
  return avg_pool2d(x, kernel_size.pair(), stride.pair(), padding.pair());
}

void AvgPool2dImpl::pretty_print(std::ostream& os) const { print_pool(os, "AvgPool2d", kernel_size, stride, padding); }

Tensor GlobalAvgPool2dImpl::forward(const Tensor& x) const {
  FACET_CHECK(x.defined() && x.dim() == 4, "GlobalAvgPool2d", "an input [N, C, H, W]", x.describe());
  return mean(x.reshape({x.size(0), x.size(1), x.size(2) * x.size(3)}), 2);
}

}  // namespace facet::nn
