#include "layers/pooling.h"

#include <ostream>

namespace facet::nn {

Tensor MaxPool2dImpl::forward(const Tensor& x) const {
  return max_pool2d(x, kernel_size.pair(), stride.pair(), padding.pair());
}

void MaxPool2dImpl::pretty_print(std::ostream& os) const {
  os << "MaxPool2d(kernel_size=" << kernel_size.h << ", stride=" << (stride.h ? stride.h : kernel_size.h)
     << ", padding=" << padding.h << ")";
}

Tensor AvgPool2dImpl::forward(const Tensor& x) const {
  return avg_pool2d(x, kernel_size.pair(), stride.pair(), padding.pair());
}

void AvgPool2dImpl::pretty_print(std::ostream& os) const {
  os << "AvgPool2d(kernel_size=" << kernel_size.h << ", stride=" << (stride.h ? stride.h : kernel_size.h)
     << ", padding=" << padding.h << ")";
}

Tensor GlobalAvgPool2dImpl::forward(const Tensor& x) const {
  FACET_CHECK(x.defined() && x.dim() == 4, "GlobalAvgPool2d", "an input [N, C, H, W]", x.describe());
  return mean(x.reshape({x.size(0), x.size(1), -1}), 2);
}

}  // namespace facet::nn
