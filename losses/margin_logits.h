#pragma once
// The composed (unfused) margin path, step by step as the reference PyTorch code writes it: the
// margin transform of the target cosines, and the logit matrix with it in place at each label.
#include "core/margin_math.h"
#include "core/tensor.h"

namespace facet::nn {

// Elementwise: the target logit (before the scale) of each cos, differentiable with the
// derivative core/margin_math.h documents (bounded as θ -> 0 and θ -> π).
Tensor margin_target(const Tensor& cos, const MarginSpec& spec);

// s · cos [B, C], except at (i, labels[i]), where s · margin_target(cos[i, labels[i]]). Built from
// gather and scatter_add: no one-hot matrix.
Tensor apply_margin(const Tensor& cos, const Tensor& labels, const MarginSpec& spec);

}  // namespace facet::nn
