#pragma once
// The optimizer base: parameter groups with their own options (a loss head or Center-loss centers
// often want their own learning rate), zero_grad, and per-parameter state that saves to and
// loads from a safetensors file. Updates run graph-free (NoGradGuard) with core ops, on whatever
// device the parameters live.
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace facet::optim {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  // Drops every gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

  size_t num_param_groups() const { return params_.size(); }
  const std::vector<Tensor>& params(size_t group) const;
  virtual double lr(size_t group) const = 0;
  virtual void set_lr(size_t group, double lr) = 0;

  // State (momentum buffers, Adam moments and steps) as "group.index.name" tensors.
  void save(const std::string& path) const;
  // Checks every state tensor: a name this optimizer keeps, a parameter that exists, its shape,
  // the full set of names for each parameter that has any, a step count that is a whole number
  // >= 0. The first problem is a facet::Error naming it, and the state is left as it was.
  void load(const std::string& path);

 protected:
  // Checks each group (non-empty, leaves that require grad, no parameter twice) and keeps them.
  explicit Optimizer(std::vector<std::vector<Tensor>> groups, const char* name);
  // The state tensor `name` of parameter i of a group, created on first use as `initial` (zeros
  // shaped like the parameter when undefined). A state named "step" is a host-side counter.
  Tensor& state(size_t group, size_t i, const std::string& name, const Tensor& initial = Tensor());
  bool has_state(size_t group, size_t i, const std::string& name) const;
  // The state names a parameter carries once it has taken a step ("momentum_buffer"; "step",
  // "exp_avg", "exp_avg_sq").
  virtual std::vector<std::string> state_names() const = 0;

 private:
  static std::string key(size_t group, size_t i, const std::string& name);
  std::vector<std::vector<Tensor>> params_;
  std::map<std::string, Tensor> state_;
  const char* name_;
};

// An optimizer whose groups each carry an options struct with an `lr_` field; `Check` validates
// one group's options (a facet::Error naming the optimizer).
template <class Options>
class OptimizerWithOptions : public Optimizer {
 public:
  struct Group {
    std::vector<Tensor> params;
    Options options;
  };
  double lr(size_t group) const override { return options_.at(group).lr_; }
  void set_lr(size_t group, double lr) override { options_.at(group).lr_ = lr; }
  const Options& options(size_t group) const { return options_.at(group); }

 protected:
  using Check = void (*)(const Options&);
  OptimizerWithOptions(std::vector<Group> groups, const char* name, Check check)
      : Optimizer(params_of(groups), name) {
    for (const Group& g : groups) {
      check(g.options);
      options_.push_back(g.options);
    }
  }
  // One group per parameter list, all with the same options (libtorch's `SGD({a, b}, options)`).
  OptimizerWithOptions(std::vector<std::vector<Tensor>> lists, const Options& options, const char* name, Check check)
      : Optimizer(lists, name), options_(lists.size(), options) {
    check(options);
  }
  std::vector<Options> options_;

 private:
  static std::vector<std::vector<Tensor>> params_of(const std::vector<Group>& groups) {
    std::vector<std::vector<Tensor>> out;
    for (const Group& g : groups) out.push_back(g.params);
    return out;
  }
};

}  // namespace facet::optim
