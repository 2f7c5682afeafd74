// Copies, casts, fills and device moves.
#include "core/factory.h"
#include "core/ops_common.h"
#include "cuda/runtime.h"

namespace facet::ops {

using namespace detail;

Tensor contiguous(const Tensor& t) {
  check_defined("contiguous", t, "the input");
  if (t.is_contiguous()) return t;
  return clone(t);
}

Tensor clone(const Tensor& t) {
  check_defined("clone", t, "the input");
  Tensor out = output("clone", t.shape(), t.dtype(), t.device());
  FACET_DISPATCH("clone", t, copy, out, t);
  return out;
}

Tensor cast(const Tensor& t, DType dtype) {
  check_defined("to", t, "the input");
  Tensor out = output("to", t.shape(), dtype, t.device());
  FACET_DISPATCH("to", t, copy, out, t);
  return out;
}

Tensor to_device(const Tensor& t, Device device) {
  check_defined("to", t, "the input");
  if (device == t.device()) return t;
  check_device_exists("to", device);
  const Tensor src = contiguous(t);
  Tensor out = output("to", t.shape(), t.dtype(), device);
  const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
  const cuda::CopyKind kind = src.device().is_cpu() ? cuda::CopyKind::HostToDevice
                              : device.is_cpu()     ? cuda::CopyKind::DeviceToHost
                                                    : cuda::CopyKind::DeviceToDevice;
  const int stream_device = device.is_cuda() ? device.index : src.device().index;
  const bool across_gpus = src.device().is_cuda() && device.is_cuda();
  // Between two GPUs the copy runs on the destination's stream: wait for the kernels that made
  // src on its own stream first, and for the copy before src's memory can be reused.
  if (across_gpus) cuda::synchronize(src.device().index);
  cuda::copy_bytes(out.raw_data(), src.raw_data(), bytes, kind, stream_device, src.storage()->pinned());
  if (across_gpus) cuda::synchronize(device.index);
  return out;
}

Tensor pin_memory(const Tensor& t) {
  check_defined("pin_memory", t, "the input");
  FACET_CHECK(t.device().is_cpu(), "pin_memory", "a CPU tensor", t.describe());
  if (t.storage()->pinned()) return t;
  FACET_CHECK(cuda_device_count() > 0, "pin_memory", "a visible CUDA device (pinned memory serves host-to-GPU copies)",
              built_with_cuda() ? "no GPU" : "a build without CUDA");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(t.numel()) * dtype_size(t.dtype()), t.device(), true);
  impl->shape = t.shape();
  impl->strides = contiguous_strides(t.shape());
  impl->dtype = t.dtype();
  Tensor out(std::move(impl));
  cpu::copy(out, t);
  return out;
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_defined("copy_", dst, "the destination");
  check_defined("copy_", src, "the source");
  check_same_device("copy_", dst, src);
  for (int64_t d = 0; d < dst.dim(); ++d)
    FACET_CHECK(dst.stride(d) != 0 || dst.size(d) <= 1, "copy_",
                "a destination without broadcast (stride 0) dims", dst.describe());
  const Shape shape = broadcast_shapes("copy_", dst.shape(), src.shape());
  FACET_CHECK(shape == dst.shape(), "copy_", "a source that broadcasts to the destination's shape",
              src.describe() + " into " + dst.describe());
  // A source that shares the destination's storage may overlap it: read it from a copy.
  const Tensor s = expand(src.storage() == dst.storage() ? clone(src) : src, dst.shape());
  FACET_DISPATCH("copy_", dst, copy, dst, s);
}

void fill_(const Tensor& dst, double value) {
  check_defined("fill_", dst, "the destination");
  FACET_DISPATCH("fill_", dst, fill, dst, value);
}

}  // namespace facet::ops
