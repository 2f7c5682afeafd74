// Differentiable matmul and linear. For C = A @ B: dA = dC @ B^T and dB = A^T @ dC, summed over
// batch dims that were broadcast.
#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet {

Tensor matmul(const Tensor& a, const Tensor& b) {
  const Tensor out = ops::matmul(a, b);
  return record("MatmulBackward", out, {a, b},
                [a = ops::alias(a), b = ops::alias(b)](const Tensor& g, const NeedsGrad& needs) {
                  Tensor ga, gb;
                  if (needs[0]) ga = ops::sum_to(ops::matmul(g, ops::transpose(b, -1, -2)), a.shape());
                  if (needs[1]) {
                    if (b.dim() == 2 && a.dim() > 2) {  // fold the batch into one GEMM: A_flat^T @ dC_flat
                      const int64_t k = a.size(-1), n = b.size(-1);
                      gb = ops::matmul(ops::transpose(ops::reshape(a, {-1, k}), 0, 1), ops::reshape(g, {-1, n}));
                    } else {
                      gb = ops::sum_to(ops::matmul(ops::transpose(a, -1, -2), g), b.shape());
                    }
                  }
                  return std::vector<Tensor>{ga, gb};
                });
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  FACET_CHECK(weight.defined() && weight.dim() == 2, "linear", "a 2-d weight [out_features, in_features]",
              weight.describe());
  FACET_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == weight.size(1), "linear",
              "input features x.size(-1) == weight.size(1) = " + std::to_string(weight.size(1)),
              x.describe() + " with weight " + weight.describe());
  FACET_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), "linear",
              "a bias of shape [" + std::to_string(weight.size(0)) + "]", bias.describe());
  const Tensor x2 = x.dim() == 1 ? x.unsqueeze(0) : x;
  Tensor out = matmul(x2, transpose(weight, 0, 1));
  if (bias.defined()) out = add(out, bias);
  return x.dim() == 1 ? out.squeeze(0) : out;
}

}  // namespace facet
