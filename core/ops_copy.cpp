// Copies, casts, fills and device moves.
#include "core/factory.h"
#include "core/ops_common.h"
#include "cpu/cpu.h"

namespace facet::ops {

using namespace detail;

Tensor contiguous(const Tensor& t) {
  check_defined("contiguous", t, "the input");
  if (t.is_contiguous()) return t;
  return clone(t);
}

Tensor clone(const Tensor& t) {
  check_defined("clone", t, "the input");
  Tensor out = empty(t.shape(), t.dtype(), t.device());
  dispatch("clone", t, [&] { cpu::copy(out, t); });
  return out;
}

Tensor cast(const Tensor& t, DType dtype) {
  check_defined("to", t, "the input");
  Tensor out = empty(t.shape(), dtype, t.device());
  dispatch("to", t, [&] { cpu::copy(out, t); });
  return out;
}

Tensor to_device(const Tensor& t, Device device) {
  check_defined("to", t, "the input");
  if (device == t.device()) return t;
  throw Error("to", "a device move supported by this build (CPU <-> CUDA arrives with the CUDA backend)",
              t.describe() + " to " + device.str());
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
  const Tensor s = expand(src, dst.shape());
  dispatch("copy_", dst, [&] { cpu::copy(dst, s); });
}

void fill_(const Tensor& dst, double value) {
  check_defined("fill_", dst, "the destination");
  dispatch("fill_", dst, [&] { cpu::fill(dst, value); });
}

}  // namespace facet::ops
