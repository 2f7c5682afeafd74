#pragma once
// SphereFace (multiplicative angular margin, A-Softmax) as the reference PyTorch port's
// SphereProduct: cos θ clamped to [-1, 1]; at the label psi(θ) = (-1)^k cos(m θ) - 2k with
// k = floor(m θ / π); the target cos θ + (psi - cos θ) / (1 + lambda); every logit times |x|.
// lambda anneals with the training iterations: max(lambda_min, base · (1 + gamma · iter)^-power),
// base 1000, gamma 0.12, power 1, lambda_min 5, as in the reference. The iteration count is a
// buffer, so a checkpoint resumes the schedule; it advances on each forward in training mode only,
// and stays on the CPU when the module moves (a host buffer), so reading it never waits for a GPU.
// The logits scale per sample (|x|), so the fused kernel does not apply: loss() composes
// forward() with the fused cross_entropy.
#include <cstdint>

#include "layers/module.h"
#include "losses/cross_entropy.h"

namespace facet::nn {

class SphereProductImpl : public Module {
 public:
  SphereProductImpl(int64_t in_features, int64_t out_features, int m = 4);
  Tensor forward(const Tensor& x, const Tensor& labels);
  Tensor loss(const Tensor& x, const Tensor& labels, Reduction reduction = Reduction::Mean,
              double label_smoothing = 0.0);
  // The lambda the next training forward will use.
  double lambda() const;
  void pretty_print(std::ostream& os) const override;

  int64_t in_features, out_features;
  int m;
  double base = 1000.0, gamma = 0.12, power = 1.0, lambda_min = 5.0;
  Tensor weight, iteration;
};
FACET_MODULE(SphereProduct);

}  // namespace facet::nn
