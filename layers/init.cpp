#include "layers/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/ops.h"

namespace facet::nn::init {

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& weight) {
  FACET_CHECK(weight.defined() && weight.dim() >= 2, "init", "a weight with at least 2 dims to compute fans from",
              weight.describe());
  const int64_t receptive = weight.numel() / (weight.size(0) * weight.size(1) == 0 ? 1 : weight.size(0) * weight.size(1));
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::Relu: return std::sqrt(2.0);
    case Nonlinearity::LeakyRelu: return std::sqrt(2.0 / (1.0 + param * param));
  }
  return 1.0;
}

void zeros_(Tensor& t) { constant_(t, 0.0); }
void ones_(Tensor& t) { constant_(t, 1.0); }

void constant_(Tensor& t, double value) {
  NoGradGuard no_grad;
  ops::fill_(t, value);
}

void uniform_(Tensor& t, double a, double b, Generator* gen) {
  NoGradGuard no_grad;
  ops::uniform_(t, a, b, gen ? *gen : default_generator());
}

void normal_(Tensor& t, double mean, double std, Generator* gen) {
  NoGradGuard no_grad;
  ops::normal_(t, mean, std, gen ? *gen : default_generator());
}

void xavier_uniform_(Tensor& t, double gain, Generator* gen) {
  const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  const double a = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  uniform_(t, -a, a, gen);
}

void xavier_normal_(Tensor& t, double gain, Generator* gen) {
  const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  const int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
  FACET_CHECK(fan > 0, "kaiming init", "a weight with a non-zero fan", t.describe());
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

void kaiming_uniform_(Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity), gen);
}

}  // namespace facet::nn::init
