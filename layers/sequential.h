#pragma once
// Runs its modules in order, each one's output the next one's input. Children are named "0",
// "1", ... so state-dict names read "body.0.weight", as in PyTorch.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

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
    steps_.push_back([impl = module.ptr()](const Tensor& x) { return impl->forward(x); });
  }

  Tensor forward(const Tensor& x) const;
  size_t size() const { return steps_.size(); }
  // The i-th module (facet::Error past the end).
  std::shared_ptr<Module> operator[](size_t i) const;

 private:
  std::vector<std::function<Tensor(const Tensor&)>> steps_;
};
FACET_MODULE(Sequential);

}  // namespace facet::nn
