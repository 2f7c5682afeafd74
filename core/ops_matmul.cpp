// Front door of matmul: shape checks, batch broadcasting, and operands made BLAS-ready (one of
// the last two strides 1, with a leading dimension BLAS accepts) without copying the common
// cases (contiguous, or a transposed view); anything else is cloned into fresh strides.
#include <algorithm>

#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

bool blas_ready(const Tensor& t) {
  const int64_t rows = t.size(-2), cols = t.size(-1), rs = t.stride(-2), cs = t.stride(-1);
  return (cs == 1 && rs >= std::max<int64_t>(cols, 1)) || (rs == 1 && cs >= std::max<int64_t>(rows, 1));
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", a, "the first operand");
  check_defined("matmul", b, "the second operand");
  check_same_device("matmul", a, b);
  check_same_dtype("matmul", a, b);
  check_floating("matmul", a);
  FACET_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul", "operands with at least 2 dims",
              a.describe() + " and " + b.describe());
  FACET_CHECK(a.size(-1) == b.size(-2), "matmul", "a.size(-1) == b.size(-2)", a.describe() + " and " + b.describe());
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  // BLAS takes 32-bit sizes and leading dimensions.
  constexpr int64_t kMaxBlas = 2147483647;
  FACET_CHECK(a.numel() / std::max<int64_t>(k, 1) <= kMaxBlas && k <= kMaxBlas && n <= kMaxBlas &&
                  b.numel() / std::max<int64_t>(n, 1) <= kMaxBlas,
              "matmul", "matrix sizes below 2^31 (BLAS takes 32-bit sizes)", a.describe() + " and " + b.describe());

  // [..., m, k] @ [k, n] with a contiguous: one GEMM over all rows of a.
  if (b.dim() == 2 && a.dim() > 2 && a.is_contiguous() && a.numel() > 0) {
    Shape out_shape = a.shape();
    out_shape.back() = n;
    return reshape(matmul(reshape(a, {-1, k}), b), out_shape);
  }

  const Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes("matmul", batch_a, batch_b);
  Shape shape_a = batch, shape_b = batch, out_shape = batch;
  shape_a.insert(shape_a.end(), {m, k});
  shape_b.insert(shape_b.end(), {k, n});
  out_shape.insert(out_shape.end(), {m, n});
  const Tensor ea = expand(blas_ready(a) ? a : clone(a), shape_a);
  const Tensor eb = expand(blas_ready(b) ? b : clone(b), shape_b);
  Tensor out = output("matmul", out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  FACET_DISPATCH("matmul", a, matmul, ea, eb, out);
  return out;
}

}  // namespace facet::ops
