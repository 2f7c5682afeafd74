#include "core/tensor.h"

#include "core/dispatch.h"

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

void check_host_readable(const char* op, const Tensor& t) {
  FACET_CHECK(t.device().is_cpu(), op, "a CPU tensor (call .to(Device::cpu()) first)", t.describe());
}

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
  check_host_readable("item", *this);
  FACET_CHECK(numel() == 1, "item", "a tensor with one element", describe());
  return read_as<T>(*this, offset());
}

template <class T>
T Tensor::at(std::initializer_list<int64_t> index) const {
  check_host_readable("at", *this);
  FACET_CHECK(static_cast<int64_t>(index.size()) == dim(), "at", std::to_string(dim()) + " indices",
              std::to_string(index.size()) + " indices for " + describe());
  int64_t pos = offset(), d = 0;
  for (int64_t i : index) {
    FACET_CHECK(i >= 0 && i < shape()[d], "at",
                "index in [0, " + std::to_string(shape()[d]) + ") at dim " + std::to_string(d),
                std::to_string(i) + " for " + describe());
    pos += i * strides()[d++];
  }
  return read_as<T>(*this, pos);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  check_host_readable("to_vector", *this);
  std::vector<T> out;
  out.reserve(numel());
  const int64_t n = numel(), nd = dim();
  Shape index(nd, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t pos = offset();
    for (int64_t d = 0; d < nd; ++d) pos += index[d] * strides()[d];
    out.push_back(read_as<T>(*this, pos));
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
