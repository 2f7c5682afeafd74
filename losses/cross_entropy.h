#pragma once
// Softmax cross-entropy, plain and with a margin at the label, each one fused kernel pair
// (core/margin_math.h): log-softmax and NLL in one pass, no one-hot, no stored probabilities.
#include "core/margin_math.h"
#include "core/tensor.h"

namespace facet::nn {

enum class Reduction { None, Mean, Sum };

// torch.nn.functional.cross_entropy(logits, labels, reduction=..., label_smoothing=...) for
// logits [B, C] and int64 labels [B] in [0, C): the per-row losses (None), their mean or their sum.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, Reduction reduction = Reduction::Mean,
                     double label_smoothing = 0.0);

// The fused margin head on cos [B, C]: cross_entropy(s · (cos with the margin applied at each
// label), labels), equal to the composed path (apply_margin, then cross_entropy) but in one kernel
// pair. Differentiable with respect to cos.
Tensor margin_cross_entropy(const Tensor& cos, const Tensor& labels, const MarginSpec& spec,
                            Reduction reduction = Reduction::Mean, double label_smoothing = 0.0);

}  // namespace facet::nn
