// Front door of the elementwise ops: dtype and device checks, broadcasting, output allocation.
#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

// Integer tensors (labels, indices) support the ops that are exact on integers.
bool integer_supported(BinaryOp op) { return op != BinaryOp::Div && op != BinaryOp::Pow; }

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, double a, double b) {
  const char* name = unary_op_name(op);
  check_defined(name, x, "the input");
  check_floating(name, x);
  Tensor out = output(name, x.shape(), x.dtype(), x.device());
  FACET_DISPATCH(name, x, unary, op, x, a, b, out);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_op_name(op);
  check_defined(name, a, "the first operand");
  check_defined(name, b, "the second operand");
  check_same_device(name, a, b);
  check_same_dtype(name, a, b);
  FACET_CHECK(is_floating(a.dtype()) || integer_supported(op), name,
              "float32 or float64 operands (int64 supports add, sub, mul, maximum, minimum, comparisons)",
              a.describe() + " and " + b.describe());
  const Shape shape = broadcast_shapes(name, a.shape(), b.shape());
  Tensor out = output(name, shape, a.dtype(), a.device());
  FACET_DISPATCH(name, a, binary, op, expand(a, shape), expand(b, shape), out);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, double b) {
  check_defined(binary_op_name(op), a, "the first operand");
  return binary(op, a, scalar_tensor(b, a.dtype(), a.device()));
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond, "the condition");
  check_defined("where", a, "the first choice");
  check_defined("where", b, "the second choice");
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  check_same_dtype("where", a, b);
  check_floating("where", a);
  const Shape shape = broadcast_shapes("where", broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  Tensor out = output("where", shape, a.dtype(), a.device());
  FACET_DISPATCH("where", a, where, expand(cond, shape), expand(a, shape), expand(b, shape), out);
  return out;
}

}  // namespace facet::ops
