#pragma once
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace facet {

// Declared here, defined in autograd/: core carries the slot, autograd fills it (as PyTorch's
// TensorImpl carries AutogradMeta). core/ never looks inside.
struct AutogradMeta;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = kFloat32;
  std::shared_ptr<AutogradMeta> autograd;
};

// A handle: copying a Tensor shares its storage and its autograd identity, as in libtorch.
//
// The methods below that compute something (math, views, clone, to) record autograd nodes and
// are defined in autograd/ (tensor_methods.cpp, functions_shape.cpp, engine.cpp); the header
// stays in core/, which never includes autograd/. The accessors are defined in core/tensor.cpp.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- identity and layout (core/tensor.cpp) ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& sizes() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const { return numel_of(impl().shape); }
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  // Pointer to element 0 of this view (offset applied). Backends only.
  void* raw_data() const;
  template <class T> T* data() const;
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // "float32[2, 3] on cpu": the form error messages use.
  std::string describe() const;

  // ---- element access for tests and small host work (CPU tensors) ----
  template <class T> T item() const;
  template <class T> T at(std::initializer_list<int64_t> index) const;
  template <class T> std::vector<T> to_vector() const;

  // ---- autograd (autograd/) ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool enabled = true);
  Tensor& requires_grad_(bool enabled = true) { return set_requires_grad(enabled); }
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this leaf
  void zero_grad();
  // A scalar needs no seed; a non-scalar needs a seed gradient of its own shape.
  void backward(const Tensor& seed = Tensor()) const;
  std::string grad_fn_name() const;  // "" for leaves
  Tensor detach() const;

  // ---- views and copies (autograd/, differentiable) ----
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;  // never copies: facet::Error when not viewable
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(const Shape& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  // A copy in page-locked host memory (CPU tensors): its .to(cuda) is asynchronous.
  Tensor pin_memory() const;
  // Points this leaf at src's data (storage, shape, strides, dtype, device) while it keeps its
  // identity and autograd slot: how Module::to moves parameters that others hold handles to.
  void set_data(const Tensor& src);

  // ---- math (autograd/, differentiable) ----
  Tensor sum() const;
  Tensor sum(int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(int64_t dim, bool keepdim = false) const;
  Tensor argmax() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor pow(double exponent) const;
  Tensor clamp(double lo, double hi) const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- in place, graph-free (core/ops): under NoGradGuard or on tensors needing no grad ----
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  Tensor& copy_(const Tensor& src);
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& sub_(const Tensor& other) { return add_(other, -1.0); }
  Tensor& mul_(double factor);

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// A non-owning tensor over memory the caller keeps alive, as torch::from_blob.
Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device = Device::cpu());

}  // namespace facet
