#include "layers/module.h"

#include <ostream>
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <set>
#include <typeinfo>

#include "autograd/grad_mode.h"
#include "core/ops.h"

namespace facet::nn {

namespace {

bool valid_name(const std::string& name) { return !name.empty() && name.find('.') == std::string::npos; }

template <class Fn>
void collect(const Module& m, const std::string& prefix, bool recurse, const NamedTensors& own, Fn&& children_of,
             NamedTensors& out) {
  for (const auto& [name, t] : own) out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : m.named_children()) children_of(*child, prefix + name + ".", out);
}

}  // namespace

void Module::check_new_name(const char* op, const std::string& name) const {
  FACET_CHECK(valid_name(name), op, "a non-empty name without '.'", "\"" + name + "\"");
  bool taken = false;
  for (const auto& [n, t] : parameters_) taken = taken || n == name;
  for (const auto& [n, t] : buffers_) taken = taken || n == name;
  for (const auto& [n, c] : children_) taken = taken || n == name;
  FACET_CHECK(!taken, op, "a name not yet registered in " + type_name(), "\"" + name + "\" a second time");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name("register_parameter", name);
  FACET_CHECK(tensor.defined(), "register_parameter", "a defined tensor for \"" + name + "\"", "an undefined tensor");
  // A parameter is a leaf of its own, whatever graph the initial value came from.
  Tensor leaf = tensor.is_leaf() ? tensor : tensor.detach();
  leaf.set_requires_grad(requires_grad);
  parameters_.emplace_back(name, leaf);
  return leaf;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name("register_buffer", name);
  FACET_CHECK(tensor.defined(), "register_buffer", "a defined tensor for \"" + name + "\"", "an undefined tensor");
  // The caller's handle stays the buffer (so it follows to()); only a graph result is detached.
  buffers_.emplace_back(name, tensor.is_leaf() && !tensor.requires_grad() ? tensor : tensor.detach());
  return buffers_.back().second;
}

Tensor Module::register_host_buffer(const std::string& name, Tensor tensor) {
  FACET_CHECK(!tensor.defined() || tensor.device().is_cpu(), "register_host_buffer",
              "a CPU tensor for \"" + name + "\"", tensor.describe());
  Tensor buffer = register_buffer(name, std::move(tensor));
  host_buffers_.push_back(name);
  return buffer;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name("register_module", name);
  FACET_CHECK(module != nullptr, "register_module", "a module for \"" + name + "\"", "an empty holder");
  children_.emplace_back(name, std::move(module));
}

namespace {
// A tensor reachable under two names (a shared submodule, tied weights) is listed once, under the
// first name, as PyTorch does; optimizers then see each parameter once.
NamedTensors unique(const NamedTensors& all) {
  NamedTensors out;
  std::set<const TensorImpl*> seen;
  for (const auto& entry : all)
    if (seen.insert(entry.second.impl_ptr().get()).second) out.push_back(entry);
  return out;
}
}  // namespace

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  std::function<void(const Module&, const std::string&, NamedTensors&)> walk =
      [&](const Module& m, const std::string& prefix, NamedTensors& acc) {
        collect(m, prefix, recurse, m.parameters_, walk, acc);
      };
  walk(*this, "", out);
  return unique(out);
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  std::function<void(const Module&, const std::string&, NamedTensors&)> walk =
      [&](const Module& m, const std::string& prefix, NamedTensors& acc) {
        collect(m, prefix, recurse, m.buffers_, walk, acc);
      };
  walk(*this, "", out);
  return unique(out);
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

template <class Fn>
void Module::for_each_tensor(Fn&& fn) {
  for (auto& [name, t] : parameters_) fn(t, false);
  for (auto& [name, t] : buffers_)
    fn(t, std::find(host_buffers_.begin(), host_buffers_.end(), name) != host_buffers_.end());
  for (auto& [name, child] : children_) child->for_each_tensor(fn);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for_each_tensor([&](Tensor& t, bool host) {
    if (host) return;
    const Tensor grad = t.grad();
    t.set_data(ops::to_device(t, device));
    if (grad.defined()) t.grad().set_data(ops::to_device(grad, device));
  });
}

void Module::to(DType dtype) {
  NoGradGuard no_grad;
  for_each_tensor([&](Tensor& t, bool) {
    if (!is_floating(t.dtype())) return;  // integer buffers (counters, indices) keep their dtype
    const Tensor grad = t.grad();
    t.set_data(ops::cast(t, dtype));
    if (grad.defined()) t.grad().set_data(ops::cast(grad, dtype));
  });
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.zero_grad();
}

std::string Module::type_name() const {
  if (!type_name_.empty()) return type_name_;
  int status = 0;
  char* demangled = abi::__cxa_demangle(typeid(*this).name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : typeid(*this).name();
  std::free(demangled);
  const size_t colon = name.rfind("::");  // "(anonymous namespace)::Net" reads as "Net"
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

void Module::pretty_print(std::ostream& os) const { os << type_name() << "()"; }

namespace {

void print_tree(std::ostream& os, const Module& m, const std::string& indent) {
  if (m.named_children().empty()) {
    m.pretty_print(os);
    return;
  }
  os << m.type_name() << "(\n";
  for (const auto& [name, child] : m.named_children()) {
    os << indent << "  (" << name << "): ";
    print_tree(os, *child, indent + "  ");
    os << "\n";
  }
  os << indent << ")";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Module& module) {
  print_tree(os, module, "");
  return os;
}

}  // namespace facet::nn
