#pragma once
// Parameter initializers with PyTorch's formulas (torch.nn.init), in place and seeded: each takes
// an optional Generator and draws from the default one otherwise. They write under NoGradGuard.
#include <string>
#include <utility>

#include "core/generator.h"
#include "core/tensor.h"

namespace facet::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Relu, LeakyRelu, Tanh, Sigmoid };

// (fan_in, fan_out) of a weight [out, in, k...]: in * receptive field, out * receptive field.
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& weight);
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

void zeros_(Tensor& t);
void ones_(Tensor& t);
void constant_(Tensor& t, double value);
void uniform_(Tensor& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
void normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
// U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// N(0, std), std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// U(-b, b), b = gain * sqrt(3 / fan), gain from the nonlinearity (with slope a for leaky ReLU).
void kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nonlinearity = Nonlinearity::LeakyRelu, Generator* gen = nullptr);
// N(0, std), std = gain / sqrt(fan).
void kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyRelu, Generator* gen = nullptr);

}  // namespace facet::nn::init
