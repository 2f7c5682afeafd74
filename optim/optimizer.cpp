#include "optim/optimizer.h"

#include <algorithm>
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
      // Frozen parameters (requires_grad false) are welcome: they never get a gradient, and step skips them.
      FACET_CHECK(p.defined() && p.is_leaf() && is_floating(p.dtype()), name_, "leaf float tensors (parameters)",
                  p.defined() ? p.describe() + (p.is_leaf() ? "" : " computed by " + p.grad_fn_name()) : "an undefined tensor");
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
  const std::vector<std::string> names = state_names();
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  std::map<std::string, Tensor> loaded;
  std::map<std::pair<size_t, size_t>, std::set<std::string>> per_param;
  for (auto& [name, t] : nn::load_tensors(path)) {
    // "group.index.name": the parameter it belongs to must exist and match in shape.
    const size_t dot1 = name.find('.'), dot2 = name.find('.', dot1 == std::string::npos ? 0 : dot1 + 1);
    FACET_CHECK(dot1 != std::string::npos && dot2 != std::string::npos, "load",
                std::string(name_) + " state names group.index.name in " + path, "\"" + name + "\"");
    size_t g = 0, i = 0;
    try {
      g = std::stoul(name.substr(0, dot1));
      i = std::stoul(name.substr(dot1 + 1, dot2 - dot1 - 1));
    } catch (const std::exception&) {
      throw Error("load", std::string(name_) + " state names group.index.name in " + path, "\"" + name + "\"");
    }
    const std::string kind = name.substr(dot2 + 1);
    FACET_CHECK(std::find(names.begin(), names.end(), kind) != names.end(), "load",
                std::string(name_) + " state (" + known + ") in " + path, "\"" + name + "\" (a file of another optimizer?)");
    FACET_CHECK(g < params_.size() && i < params_[g].size(), "load", "state for an existing parameter in " + path,
                "\"" + name + "\" (the optimizer has " + std::to_string(params_.size()) + " groups)");
    per_param[{g, i}].insert(kind);
    const Tensor& p = params_[g][i];
    if (kind == "step") {  // the host-side counter: one whole number >= 0
      const double step = t.numel() == 1 ? t.item<double>() : -1;
      FACET_CHECK(step >= 0 && step == static_cast<double>(static_cast<int64_t>(step)), "load",
                  "a step count that is a whole number >= 0 for \"" + name + "\"", t.describe() + " in " + path);
      loaded[name] = t;
      continue;
    }
    FACET_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype(), "load",
                "\"" + name + "\" shaped like its parameter " + p.describe(), t.describe() + " in " + path);
    loaded[name] = ops::to_device(t, p.device());
  }
  for (const auto& [param, kinds] : per_param)
    FACET_CHECK(kinds.size() == names.size(), "load",
                "all of a parameter's state, or none, for group " + std::to_string(param.first) + " parameter " +
                    std::to_string(param.second) + " in " + path,
                std::to_string(kinds.size()) + " of " + std::to_string(names.size()) + " state tensors");
  state_ = std::move(loaded);
}

}  // namespace facet::optim
