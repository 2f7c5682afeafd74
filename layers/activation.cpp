#include "layers/activation.h"

#include "autograd/functions.h"

namespace facet::nn {

Tensor ReLUImpl::forward(const Tensor& x) const { return relu(x); }
Tensor TanhImpl::forward(const Tensor& x) const { return tanh(x); }
Tensor SigmoidImpl::forward(const Tensor& x) const { return sigmoid(x); }

}  // namespace facet::nn
