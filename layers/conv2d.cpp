#include "layers/conv2d.h"

#include <cmath>
#include <ostream>

#include "core/factory.h"
#include "layers/init.h"

namespace facet::nn {

Conv2dImpl::Conv2dImpl(const Conv2dOptions& opts) : Module("Conv2d"), options(opts) {
  const Conv2dOptions& o = options;
  FACET_CHECK(o.in_channels_ > 0 && o.out_channels_ > 0 && o.kernel_size_.h > 0 && o.kernel_size_.w > 0, "Conv2d",
              "positive channels and kernel size",
              std::to_string(o.in_channels_) + " -> " + std::to_string(o.out_channels_) + ", kernel " +
                  shape_str({o.kernel_size_.h, o.kernel_size_.w}));
  weight = register_parameter("weight", empty({o.out_channels_, o.in_channels_, o.kernel_size_.h, o.kernel_size_.w}));
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (o.bias_) {
    bias = register_parameter("bias", empty({o.out_channels_}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(o.in_channels_ * o.kernel_size_.h * o.kernel_size_.w));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Conv2dImpl::forward(const Tensor& x) const {
  return conv2d(x, weight, bias, options.stride_.pair(), options.padding_.pair(), options.dilation_.pair());
}

void Conv2dImpl::pretty_print(std::ostream& os) const {
  const Conv2dOptions& o = options;
  os << "Conv2d(" << o.in_channels_ << ", " << o.out_channels_ << ", kernel_size=(" << o.kernel_size_.h << ", "
     << o.kernel_size_.w << "), stride=(" << o.stride_.h << ", " << o.stride_.w << ")";
  if (o.padding_.h || o.padding_.w) os << ", padding=(" << o.padding_.h << ", " << o.padding_.w << ")";
  if (o.dilation_.h != 1 || o.dilation_.w != 1) os << ", dilation=(" << o.dilation_.h << ", " << o.dilation_.w << ")";
  if (!o.bias_) os << ", bias=false";
  os << ")";
}

}  // namespace facet::nn
