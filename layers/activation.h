#pragma once
// Parameter-free activations as modules, for Sequential.
#include "layers/module.h"

namespace facet::nn {

class ReLUImpl : public Module {
 public:
  ReLUImpl() : Module("ReLU") {}
  Tensor forward(const Tensor& x) const;
};
FACET_MODULE(ReLU);

class TanhImpl : public Module {
 public:
  TanhImpl() : Module("Tanh") {}
  Tensor forward(const Tensor& x) const;
};
FACET_MODULE(Tanh);

class SigmoidImpl : public Module {
 public:
  SigmoidImpl() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) const;
};
FACET_MODULE(Sigmoid);

}  // namespace facet::nn
