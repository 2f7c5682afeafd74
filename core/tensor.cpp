#include "core/tensor.h"

#include "core/dispatch.h"
#include "core/ops.h"

namespace facet {

TensorImpl& Tensor::impl() const {
  if (!impl_) throw Error("Tensor", "a defined tensor", "an undefined (default-constructed) tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim("size", d, dim())]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim("stride", d, dim())]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape()[i] == 1) continue;  // a size-1 dim's stride never matters
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) + offset() * static_cast<int64_t>(dtype_size(dtype()));
}

template <class T>
T* Tensor::data() const {
  FACET_CHECK(dtype() == DTypeOf<T>::value, "data", std::string("a ") + dtype_name(DTypeOf<T>::value) + " tensor",
              describe());
  return static_cast<T*>(raw_data());
}

std::string Tensor::describe() const {
  if (!defined()) return "an undefined tensor";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " on " + device().str();
}

namespace {

// The tensor itself on the CPU; a copy (and a sync) for a CUDA tensor, as PyTorch's item() does.
Tensor on_host(const Tensor& t) { return t.device().is_cpu() ? t : ops::to_device(t, Device::cpu()); }

// Reads the element at storage position `pos` of any dtype, converted to T.
template <class T>
T read_as(const Tensor& t, int64_t pos) {
  return dispatch_all(t.dtype(), [&](auto tag) {
    using S = decltype(tag);
    return static_cast<T>(static_cast<const S*>(t.storage()->data())[pos]);
  });
}

}  // namespace

template <class T>
T Tensor::item() const {
  FACET_CHECK(numel() == 1, "item", "a tensor with one element", describe());
  const Tensor h = on_host(*this);
  return read_as<T>(h, h.offset());
}

template <class T>
T Tensor::at(std::initializer_list<int64_t> index) const {
  FACET_CHECK(static_cast<int64_t>(index.size()) == dim(), "at", std::to_string(dim()) + " indices",
              std::to_string(index.size()) + " indices for " + describe());
  const Tensor h = on_host(*this);
  int64_t pos = h.offset(), d = 0;
  for (int64_t i : index) {
    FACET_CHECK(i >= 0 && i < shape()[d], "at",
                "index in [0, " + std::to_string(shape()[d]) + ") at dim " + std::to_string(d),
                std::to_string(i) + " for " + describe());
    pos += i * h.strides()[d++];
  }
  return read_as<T>(h, pos);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor h = on_host(*this);
  std::vector<T> out;
  out.reserve(numel());
  const int64_t n = numel(), nd = dim();
  Shape index(nd, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t pos = h.offset();
    for (int64_t d = 0; d < nd; ++d) pos += index[d] * h.strides()[d];
    out.push_back(read_as<T>(h, pos));
    for (int64_t d = nd - 1; d >= 0 && ++index[d] == shape()[d]; --d) index[d] = 0;
  }
  return out;
}

#define FACET_INSTANTIATE(T)                                                   \
  template T* Tensor::data<T>() const;                                         \
  template T Tensor::item<T>() const;                                          \
  template T Tensor::at<T>(std::initializer_list<int64_t>) const;             \
  template std::vector<T> Tensor::to_vector<T>() const;
FACET_INSTANTIATE(float)
FACET_INSTANTIATE(double)
FACET_INSTANTIATE(int64_t)
#undef FACET_INSTANTIATE

Tensor Tensor::pin_memory() const { return ops::pin_memory(*this); }

void Tensor::set_data(const Tensor& src) {
  FACET_CHECK(src.defined(), "set_data", "a defined source", "an undefined tensor");
  TensorImpl& self = impl();
  self.storage = src.storage();
  self.shape = src.shape();
  self.strides = src.strides();
  self.offset = src.offset();
  self.dtype = src.dtype();
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) FACET_CHECK(s >= 0, "from_blob", "non-negative sizes", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, numel_of(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace facet
