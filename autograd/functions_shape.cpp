// Differentiable views and copies. A view's backward maps the gradient back through the inverse
// view; narrow and slice write theirs into a zero tensor of the input's shape.
#include <algorithm>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

namespace {

// For views whose gradient is just the gradient reshaped to the input's shape.
Tensor reshaping(const char* name, const Tensor& x, const Tensor& out) {
  return record(name, out, {x}, [shape = x.shape()](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::reshape(g, shape)};
  });
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) { return reshaping("ReshapeBackward", x, ops::reshape(x, shape)); }

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = wrap_dim("flatten", start_dim, x.dim());
  end_dim = wrap_dim("flatten", end_dim, x.dim());
  FACET_CHECK(start_dim <= end_dim, "flatten", "start_dim <= end_dim",
              std::to_string(start_dim) + " > " + std::to_string(end_dim));
  Shape shape(x.shape().begin(), x.shape().begin() + start_dim);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= x.size(d);
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + end_dim + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  return record("TransposeBackward", ops::transpose(x, d0, d1), {x}, [d0, d1](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::transpose(g, d0, d1)};
  });
}

Tensor permute(const Tensor& x, const Shape& dims) {
  const Tensor out = ops::permute(x, dims);
  Shape inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim("permute", dims[i], x.dim())] = static_cast<int64_t>(i);
  return record("PermuteBackward", out, {x}, [inverse](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::permute(g, inverse)};
  });
}

Tensor Tensor::reshape(const Shape& shape) const { return facet::reshape(*this, shape); }
Tensor Tensor::view(const Shape& shape) const { return reshaping("ViewBackward", *this, ops::view(*this, shape)); }
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const { return facet::flatten(*this, start_dim, end_dim); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return facet::transpose(*this, d0, d1); }
Tensor Tensor::permute(const Shape& dims) const { return facet::permute(*this, dims); }
Tensor Tensor::squeeze(int64_t dim) const { return reshaping("SqueezeBackward", *this, ops::squeeze(*this, dim)); }
Tensor Tensor::unsqueeze(int64_t dim) const { return reshaping("UnsqueezeBackward", *this, ops::unsqueeze(*this, dim)); }

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  const Tensor out = ops::slice(*this, dim, start, end, step);
  const int64_t d = wrap_dim("slice", dim, this->dim());
  // The same normalization ops::slice applies (negative counts from the end, then clamp).
  const int64_t first = std::clamp<int64_t>(start < 0 ? start + size(d) : start, 0, size(d));
  return record("SliceBackward", out, {*this},
                [shape = shape(), dtype = dtype(), device = device(), d, first, step](const Tensor& g, const NeedsGrad&) {
                  const Tensor full_grad = zeros(shape, dtype, device);
                  ops::copy_(ops::slice(full_grad, d, first, first + g.size(d) * step, step), g);
                  return std::vector<Tensor>{full_grad};
                });
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  ops::narrow(*this, dim, start, length);  // its checks (strict bounds) and messages
  if (start < 0) start += size(dim);
  return slice(dim, start, start + length, 1);
}

Tensor Tensor::expand(const Shape& shape) const {
  return record("ExpandBackward", ops::expand(*this, shape), {*this},
                [shape = this->shape()](const Tensor& g, const NeedsGrad&) {
                  return std::vector<Tensor>{ops::sum_to(g, shape)};
                });
}

Tensor Tensor::contiguous() const {
  return record("ContiguousBackward", ops::contiguous(*this), {*this},
                [](const Tensor& g, const NeedsGrad&) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::clone() const {
  return record("CloneBackward", ops::clone(*this), {*this},
                [](const Tensor& g, const NeedsGrad&) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  return record("ToDtypeBackward", ops::cast(*this, dtype), {*this},
                [from = this->dtype()](const Tensor& g, const NeedsGrad&) { return std::vector<Tensor>{ops::cast(g, from)}; });
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  return record("ToDeviceBackward", ops::to_device(*this, device), {*this},
                [from = this->device()](const Tensor& g, const NeedsGrad&) {
                  return std::vector<Tensor>{ops::to_device(g, from)};
                });
}

}  // namespace facet
