#pragma once
// Runs its modules in order, each one's output the next one's input. Children are named "0",
// "1", ... so state-dict names read "body.0.weight", as in PyTorch. A BatchNorm directly followed
// by a PReLU whose slope fits its channels runs fused (one pass each way instead of two).
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "layers/batchnorm.h"
#include "layers/module.h"
#include "layers/prelu.h"

namespace facet::nn {

class SequentialImpl : public Module {
 public:
  SequentialImpl() : Module("Sequential") {}
  template <class... Holders>
  explicit SequentialImpl(Holders&&... modules) : Module("Sequential") {
    (push_back(std::forward<Holders>(modules)), ...);
  }

  template <class Impl>
  void push_back(const ModuleHolder<Impl>& module) {
    register_module(std::to_string(steps_.size()), module);
    Step step{[impl = module.ptr()](const Tensor& x) { return impl->forward(x); }, nullptr, nullptr};
    if constexpr (std::is_base_of_v<BatchNormImpl, Impl>) step.batch_norm = module.ptr();
    if constexpr (std::is_base_of_v<PReLUImpl, Impl>) step.prelu = module.ptr();
    steps_.push_back(std::move(step));
  }

  Tensor forward(const Tensor& x) const;
  size_t size() const { return steps_.size(); }
  // The i-th module (facet::Error past the end).
  std::shared_ptr<Module> operator[](size_t i) const;

 private:
  // A BatchNorm followed by a PReLU runs as one fused op (BatchNormImpl::forward_prelu): the
  // steps keep what they are for that.
  struct Step {
    std::function<Tensor(const Tensor&)> run;
    std::shared_ptr<BatchNormImpl> batch_norm;
    std::shared_ptr<PReLUImpl> prelu;
  };
  std::vector<Step> steps_;
};
FACET_MODULE(Sequential);

}  // namespace facet::nn
