#include "optim/optimizer.h"

#include <set>

#include "core/factory.h"
#include "core/ops.h"
#include "layers/checkpoint.h"

namespace facet::optim {

Optimizer::Optimizer(std::vector<std::vector<Tensor>> groups, const char* name) : params_(std::move(groups)), name_(name) {
  FACET_CHECK(!params_.empty(), name_, "at least one parameter group", "none");
  std::set<const TensorImpl*> seen;
  for (size_t g = 0; g < params_.size(); ++g) {
    FACET_CHECK(!params_[g].empty(), name_, "parameters in every group", "group " + std::to_string(g) + " empty");
    for (const Tensor& p : params_[g]) {
      FACET_CHECK(p.defined() && p.is_leaf() && p.requires_grad(), name_,
                  "leaf tensors that require grad (parameters)", p.defined() ? p.describe() : "an undefined tensor");
      FACET_CHECK(seen.insert(p.impl_ptr().get()).second, name_, "each parameter in one group once",
                  p.describe() + " a second time");
    }
  }
}

const std::vector<Tensor>& Optimizer::params(size_t group) const {
  FACET_CHECK(group < params_.size(), name_, "a group index below " + std::to_string(params_.size()),
              std::to_string(group));
  return params_[group];
}

void Optimizer::zero_grad() {
  for (auto& group : params_)
    for (Tensor& p : group) p.zero_grad();
}

std::string Optimizer::key(size_t group, size_t i, const std::string& name) {
  return std::to_string(group) + "." + std::to_string(i) + "." + name;
}

Tensor& Optimizer::state(size_t group, size_t i, const std::string& name, const Tensor& initial) {
  Tensor& t = state_[key(group, i, name)];
  if (!t.defined()) t = initial.defined() ? initial : zeros_like(params_[group][i]);
  return t;
}

bool Optimizer::has_state(size_t group, size_t i, const std::string& name) const {
  return state_.count(key(group, i, name)) > 0;
}

void Optimizer::save(const std::string& path) const {
  nn::NamedTensors all(state_.begin(), state_.end());
  nn::save_tensors(all, path);
}

void Optimizer::load(const std::string& path) {
  std::map<std::string, Tensor> loaded;
  for (auto& [name, t] : nn::load_tensors(path)) {
    // "group.index.name": the parameter it belongs to must exist and match in shape.
    const size_t dot1 = name.find('.'), dot2 = name.find('.', dot1 == std::string::npos ? 0 : dot1 + 1);
    FACET_CHECK(dot1 != std::string::npos && dot2 != std::string::npos, "load", "optimizer state names group.index.name in " + path,
                "\"" + name + "\"");
    size_t g = 0, i = 0;
    try {
      g = std::stoul(name.substr(0, dot1));
      i = std::stoul(name.substr(dot1 + 1, dot2 - dot1 - 1));
    } catch (const std::exception&) {
      throw Error("load", "optimizer state names group.index.name in " + path, "\"" + name + "\"");
    }
    FACET_CHECK(g < params_.size() && i < params_[g].size(), "load", "state for an existing parameter in " + path,
                "\"" + name + "\" (the optimizer has " + std::to_string(params_.size()) + " groups)");
    const Tensor& p = params_[g][i];
    if (name.substr(dot2 + 1) == "step") {  // the host-side counter
      FACET_CHECK(t.numel() == 1, "load", "a one-element step count for \"" + name + "\"", t.describe() + " in " + path);
      loaded[name] = t;
      continue;
    }
    FACET_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype(), "load",
                "\"" + name + "\" shaped like its parameter " + p.describe(), t.describe() + " in " + path);
    loaded[name] = ops::to_device(t, p.device());
  }
  state_ = std::move(loaded);
}

}  // namespace facet::optim
