// Views: new shape, strides and offset over the same storage. Nothing here touches data.
#include <algorithm>
#include <numeric>
#include <optional>

#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

Tensor as_strided(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

Tensor alias(const Tensor& t) { return as_strided(t, t.shape(), t.strides(), t.offset()); }

namespace {

// Resolves one -1 and checks the element count.
Shape infer_shape(const char* op, const Tensor& t, Shape shape) {
  int64_t known = 1, infer_at = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      FACET_CHECK(infer_at < 0, op, "at most one -1 in the shape", shape_str(shape));
      infer_at = static_cast<int64_t>(d);
    } else {
      FACET_CHECK(shape[d] >= 0, op, "sizes >= 0 or a single -1", shape_str(shape));
      known *= shape[d];
    }
  }
  if (infer_at >= 0) {
    FACET_CHECK(known != 0 && t.numel() % known == 0, op,
                "a shape whose -1 can be inferred for " + std::to_string(t.numel()) + " elements",
                shape_str(shape) + " for " + t.describe());
    shape[infer_at] = t.numel() / known;
  }
  FACET_CHECK(numel_of(shape) == t.numel(), op,
              "a shape with " + std::to_string(t.numel()) + " elements", shape_str(shape) + " for " + t.describe());
  return shape;
}

// The strides that let `shape` view t without a copy, if any: each run of old dims that the
// new shape splits or merges must itself be contiguous (the rule PyTorch's view follows).
std::optional<Shape> view_strides(const Tensor& t, const Shape& shape) {
  const Shape& old_shape = t.shape();
  const Shape& old_strides = t.strides();
  if (t.numel() == 0 || old_shape.empty()) return contiguous_strides(shape);
  Shape strides(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    // A chunk ends where the old dims stop being contiguous with each other.
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

}  // namespace

Tensor view(const Tensor& t, Shape shape) {
  shape = infer_shape("view", t, std::move(shape));
  const auto strides = view_strides(t, shape);
  FACET_CHECK(strides.has_value(), "view",
              "a shape compatible with the input's strides (use reshape, or contiguous() first)",
              shape_str(shape) + " for a non-contiguous " + t.describe() + " with strides " + shape_str(t.strides()));
  return as_strided(t, shape, *strides, t.offset());
}

Tensor reshape(const Tensor& t, Shape shape) {
  shape = infer_shape("reshape", t, std::move(shape));
  if (const auto strides = view_strides(t, shape)) return as_strided(t, shape, *strides, t.offset());
  return view(contiguous(t), shape);
}

Tensor transpose(const Tensor& t, int64_t d0, int64_t d1) {
  d0 = wrap_dim("transpose", d0, t.dim());
  d1 = wrap_dim("transpose", d1, t.dim());
  Shape shape = t.shape(), strides = t.strides();
  if (t.dim() == 0) return alias(t);
  std::swap(shape[d0], shape[d1]);
  std::swap(strides[d0], strides[d1]);
  return as_strided(t, shape, strides, t.offset());
}

Tensor permute(const Tensor& t, const Shape& dims) {
  FACET_CHECK(static_cast<int64_t>(dims.size()) == t.dim(), "permute",
              "a permutation of " + std::to_string(t.dim()) + " dims", shape_str(dims) + " for " + t.describe());
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim("permute", dims[i], t.dim());
    FACET_CHECK(!seen[d], "permute", "each dim exactly once", shape_str(dims));
    seen[d] = true;
    shape[i] = t.shape()[d];
    strides[i] = t.strides()[d];
  }
  return as_strided(t, shape, strides, t.offset());
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = wrap_dim("slice", dim, t.dim());
  FACET_CHECK(t.dim() > 0, "slice", "a tensor with at least one dim", t.describe());
  FACET_CHECK(step > 0, "slice", "a positive step", "step " + std::to_string(step));
  const int64_t size = t.shape()[dim];
  // Python slice semantics: negative bounds count from the end, out-of-range bounds clamp.
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Shape shape = t.shape(), strides = t.strides();
  shape[dim] = (end - start + step - 1) / step;
  strides[dim] *= step;
  return as_strided(t, shape, strides, t.offset() + start * t.strides()[dim]);
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  FACET_CHECK(t.dim() > 0, "narrow", "a tensor with at least one dim", t.describe());
  dim = wrap_dim("narrow", dim, t.dim());
  const int64_t size = t.shape()[dim];
  if (start < 0) start += size;
  FACET_CHECK(start >= 0 && length >= 0 && start + length <= size, "narrow",
              "0 <= start and start + length <= " + std::to_string(size) + " along dim " + std::to_string(dim),
              "start " + std::to_string(start) + ", length " + std::to_string(length) + " for " + t.describe());
  return slice(t, dim, start, start + length, 1);
}

Tensor squeeze(const Tensor& t, int64_t dim) {
  if (t.dim() == 0) return alias(t);
  dim = wrap_dim("squeeze", dim, t.dim());
  if (t.shape()[dim] != 1) return alias(t);  // as PyTorch: squeezing a non-1 dim is a no-op
  Shape shape = t.shape(), strides = t.strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return as_strided(t, shape, strides, t.offset());
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  dim = wrap_dim("unsqueeze", dim, t.dim() + 1);
  Shape shape = t.shape(), strides = t.strides();
  const int64_t stride = dim < t.dim() ? strides[dim] * shape[dim] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  return as_strided(t, shape, strides, t.offset());
}

Tensor expand(const Tensor& t, const Shape& shape) {
  const int64_t nd = static_cast<int64_t>(shape.size()), lead = nd - t.dim();
  FACET_CHECK(lead >= 0, "expand", "a target with at least " + std::to_string(t.dim()) + " dims",
              shape_str(shape) + " for " + t.describe());
  Shape out_shape(nd), strides(nd);
  for (int64_t d = 0; d < nd; ++d) {
    if (d < lead) {
      FACET_CHECK(shape[d] >= 0, "expand", "non-negative sizes for new leading dims", shape_str(shape));
      out_shape[d] = shape[d];
      strides[d] = 0;
      continue;
    }
    const int64_t have = t.shape()[d - lead];
    const int64_t want = shape[d] == -1 ? have : shape[d];
    FACET_CHECK(want == have || have == 1, "expand", "each size equal to the input's or expanding a size-1 dim",
                shape_str(shape) + " for " + t.describe());
    out_shape[d] = want;
    strides[d] = want == have ? t.strides()[d - lead] : 0;
  }
  return as_strided(t, out_shape, strides, t.offset());
}

}  // namespace facet::ops
