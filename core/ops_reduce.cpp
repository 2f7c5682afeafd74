// Front door of the reductions. A whole-tensor reduction is the dim-wise kernel over the
// flattened tensor, so both forms share one body per backend.
#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

const char* reduce_name(Reduce kind) {
  switch (kind) {
    case Reduce::Sum: return "sum";
    case Reduce::Mean: return "mean";
    case Reduce::Max: return "max";
    case Reduce::Argmax: return "argmax";
  }
  return "reduce";
}

Tensor reduce_dim(Reduce kind, const Tensor& x, int64_t dim, bool keepdim) {
  const char* name = reduce_name(kind);
  check_defined(name, x, "the input");
  if (kind == Reduce::Mean) check_floating(name, x);
  dim = wrap_dim(name, dim, x.dim());
  const DimSplit s = split_at(x.shape(), dim);
  if (kind == Reduce::Max || kind == Reduce::Argmax)
    FACET_CHECK(s.n > 0, name, "a non-empty dim to reduce", "dim " + std::to_string(dim) + " of " + x.describe());
  const DType out_dtype = kind == Reduce::Argmax ? kInt64 : x.dtype();
  Tensor out = output(name, reduced_shape(x.shape(), dim, keepdim), out_dtype, x.device());
  const Tensor xc = contiguous(x);
  FACET_DISPATCH(name, x, reduce, kind, xc, s.outer, s.n, s.inner, out);
  return out;
}

Tensor reduce_all(Reduce kind, const Tensor& x) {
  check_defined(reduce_name(kind), x, "the input");
  return reduce_dim(kind, reshape(x, {x.numel()}), 0, false);
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce_all(Reduce::Sum, x); }
Tensor mean(const Tensor& x) { return reduce_all(Reduce::Mean, x); }
Tensor max(const Tensor& x) { return reduce_all(Reduce::Max, x); }
Tensor argmax(const Tensor& x) { return reduce_all(Reduce::Argmax, x); }
Tensor sum(const Tensor& x, int64_t dim, bool keepdim) { return reduce_dim(Reduce::Sum, x, dim, keepdim); }
Tensor mean(const Tensor& x, int64_t dim, bool keepdim) { return reduce_dim(Reduce::Mean, x, dim, keepdim); }
Tensor max(const Tensor& x, int64_t dim, bool keepdim) { return reduce_dim(Reduce::Max, x, dim, keepdim); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return reduce_dim(Reduce::Argmax, x, dim, keepdim); }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_defined("sum_to", x, "the input");
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  FACET_CHECK(lead >= 0, "sum_to", "a target with no more dims than the input",
              shape_str(shape) + " for " + x.describe());
  Tensor out = x;
  for (int64_t d = 0; d < lead; ++d) out = sum(out, 0, false);
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (out.size(d) == shape[d]) continue;
    FACET_CHECK(shape[d] == 1, "sum_to", "a target the input was broadcast from",
                shape_str(shape) + " for " + x.describe());
    out = sum(out, d, true);
  }
  return out;
}

}  // namespace facet::ops
