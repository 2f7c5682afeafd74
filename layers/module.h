#pragma once
// nn::Module, in libtorch's shape: a module registers its parameters, buffers and submodules by
// name, and everything else (parameters(), state-dict names like "body.0.weight", train/eval,
// to(device), zero_grad, printing) walks that registry.
//
// Layers come in libtorch's two parts: LinearImpl (the module) and Linear, a ModuleHolder that
// shares one LinearImpl, so `nn::Linear fc{nullptr}; fc = register_module("fc", nn::Linear(2, 3));`
// and `fc(x)` read as in a libtorch model.
#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace facet::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

template <class Impl>
class ModuleHolder;

class Module {
 public:
  // An empty name prints the C++ class name (demangled), as PyTorch prints the Python class.
  explicit Module(std::string type_name = "") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Registers a leaf tensor under `name` (requires_grad set as asked) and returns its handle.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  // A buffer that stays on the CPU when the module moves (saved and loaded as any other): a
  // counter the host reads every step, so reading it never waits for the GPU.
  Tensor register_host_buffer(const std::string& name, Tensor tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // A holder (nn::Linear, ...) comes back as its own type, ready to assign to the member.
  template <class Holder>
    requires requires(const Holder& h) { h.ptr(); }
  Holder register_module(const std::string& name, Holder holder) {
    add_child(name, holder.ptr());
    return holder;
  }

  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }

  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves (or converts) every parameter and buffer in place: handles held elsewhere see the move.
  void to(Device device);
  void to(DType dtype);
  // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

  std::string type_name() const;
  // One line for this module without its children, e.g. "Linear(in_features=2, out_features=3, bias=true)".
  virtual void pretty_print(std::ostream& os) const;

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const char* op, const std::string& name) const;
  template <class Fn>
  void for_each_tensor(Fn&& fn);

  std::string type_name_;
  NamedTensors parameters_, buffers_;
  std::vector<std::string> host_buffers_;  // names in buffers_ that to(Device) leaves on the CPU
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// The tree, as PyTorch prints it: "Net(\n  (fc): Linear(...)\n)".
std::ostream& operator<<(std::ostream& os, const Module& module);

template <class Impl>
class ModuleHolder {
 public:
  // An empty holder, to be assigned later (libtorch's `nn::Linear fc{nullptr}`).
  ModuleHolder(std::nullptr_t) {}
  ModuleHolder()
    requires std::is_default_constructible_v<Impl>
      : impl_(std::make_shared<Impl>()) {}
  template <class First, class... Rest>
    requires(!std::is_same_v<std::remove_cvref_t<First>, ModuleHolder> &&
             !std::is_same_v<std::remove_cvref_t<First>, std::nullptr_t>)
  explicit ModuleHolder(First&& first, Rest&&... rest)
      : impl_(std::make_shared<Impl>(std::forward<First>(first), std::forward<Rest>(rest)...)) {}

  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }
  // The Module calls a model makes on a layer it holds by value, as DESIGN.md's example does
  // (`head.to(dev)`, `head.parameters()`); everything else goes through ->.
  void to(Device device) const { get()->to(device); }
  void to(DType dtype) const { get()->to(dtype); }
  std::vector<Tensor> parameters(bool recurse = true) const { return get()->parameters(recurse); }
  NamedTensors named_parameters(bool recurse = true) const { return get()->named_parameters(recurse); }
  void train(bool on = true) const { get()->train(on); }
  void eval() const { get()->eval(); }
  void zero_grad() const { get()->zero_grad(); }

  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }

 private:
  Impl* get() const {
    if (!impl_) throw Error("module", "a module holder that holds a module", "an empty holder (constructed from nullptr)");
    return impl_.get();
  }
  std::shared_ptr<Impl> impl_;
};

// Declares the holder `Name` for `NameImpl`, as libtorch's TORCH_MODULE.
#define FACET_MODULE(Name)                                       \
  class Name : public ::facet::nn::ModuleHolder<Name##Impl> {    \
   public:                                                       \
    using ::facet::nn::ModuleHolder<Name##Impl>::ModuleHolder;  \
  }

}  // namespace facet::nn
