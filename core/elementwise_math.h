#pragma once
// Per-element math of the unary and binary ops, written once for both backends. A kernel
// switches on the op a single time (visit_unary / visit_binary) and then runs a loop whose body
// is the op's own inline function, so the compiler sees straight-line code per op.
#include <stdint.h>

#include <type_traits>

#include "core/hd.h"
#include "core/hd_math.h"

namespace facet {

#define FACET_UNARY_OPS(X)                                                                  \
  X(Neg, "neg") X(Exp, "exp") X(Log, "log") X(Sqrt, "sqrt") X(Abs, "abs") X(Sign, "sign")    \
  X(Relu, "relu") X(Sigmoid, "sigmoid") X(Tanh, "tanh") X(PowScalar, "pow") X(Clamp, "clamp")

#define FACET_BINARY_OPS(X)                                                                 \
  X(Add, "add") X(Sub, "sub") X(Mul, "mul") X(Div, "div") X(Pow, "pow") X(Maximum, "maximum") \
  X(Minimum, "minimum") X(Eq, "eq") X(Ne, "ne") X(Lt, "lt") X(Le, "le") X(Gt, "gt") X(Ge, "ge") \
  X(AddRelu, "add_relu") X(ReluBackward, "relu_backward")

#define FACET_ENUM_ENTRY(name, str) name,
enum class UnaryOp { FACET_UNARY_OPS(FACET_ENUM_ENTRY) };
enum class BinaryOp { FACET_BINARY_OPS(FACET_ENUM_ENTRY) };
#undef FACET_ENUM_ENTRY

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);

// Scalar parameters of the unary ops that take them: the exponent of PowScalar, the bounds of
// Clamp (lo = a, hi = b).
template <class T>
struct UnaryArgs {
  T a = 0, b = 0;
};

template <UnaryOp OP, class T>
FACET_HD inline T unary_fn(T x, UnaryArgs<T> args) {
  if constexpr (OP == UnaryOp::Neg) return -x;
  else if constexpr (OP == UnaryOp::Exp) return hd::exp(x);
  else if constexpr (OP == UnaryOp::Log) return hd::log(x);
  else if constexpr (OP == UnaryOp::Sqrt) return hd::sqrt(x);
  else if constexpr (OP == UnaryOp::Abs) return hd::fabs(x);
  else if constexpr (OP == UnaryOp::Sign) return static_cast<T>((x > T(0)) - (x < T(0)));
  else if constexpr (OP == UnaryOp::Relu) return x > T(0) ? x : T(0);  // NaN maps to 0 only via x>0 false
  else if constexpr (OP == UnaryOp::Sigmoid) {
    // Never exponentiates a positive number, so neither branch overflows.
    if (x >= T(0)) return T(1) / (T(1) + hd::exp(-x));
    const T e = hd::exp(x);
    return e / (T(1) + e);
  } else if constexpr (OP == UnaryOp::Tanh) return hd::tanh(x);
  else if constexpr (OP == UnaryOp::PowScalar) return hd::pow(x, args.a);
  else {
    static_assert(OP == UnaryOp::Clamp);
    // NaN stays NaN, as in PyTorch.
    return x < args.a ? args.a : (x > args.b ? args.b : x);
  }
}

template <BinaryOp OP, class T>
FACET_HD inline T binary_fn(T x, T y) {
  if constexpr (OP == BinaryOp::Add) return x + y;
  else if constexpr (OP == BinaryOp::Sub) return x - y;
  else if constexpr (OP == BinaryOp::Mul) return x * y;
  else if constexpr (OP == BinaryOp::Div) return x / y;
  else if constexpr (OP == BinaryOp::Pow) return hd::pow(x, y);
  else if constexpr (OP == BinaryOp::Maximum) return (hd::isnan(x) || x > y) ? x : y;
  else if constexpr (OP == BinaryOp::Minimum) return (hd::isnan(x) || x < y) ? x : y;
  else if constexpr (OP == BinaryOp::Eq) return T(x == y);
  else if constexpr (OP == BinaryOp::Ne) return T(x != y);
  else if constexpr (OP == BinaryOp::Lt) return T(x < y);
  else if constexpr (OP == BinaryOp::Le) return T(x <= y);
  else if constexpr (OP == BinaryOp::Gt) return T(x > y);
  else if constexpr (OP == BinaryOp::Ge) return T(x >= y);
  else if constexpr (OP == BinaryOp::AddRelu) {  // relu(x + y) in one pass (a residual block's tail)
    const T sum = x + y;
    return sum > T(0) ? sum : T(0);  // as relu: NaN maps to 0
  } else {
    // ReLU's gradient from the gradient x and relu's output y: x where y > 0, else 0 (a select,
    // so an inf or NaN gradient where the unit is off gives 0, as PyTorch's threshold_backward).
    static_assert(OP == BinaryOp::ReluBackward);
    return y > T(0) ? x : T(0);
  }
}

// Calls f(std::integral_constant<UnaryOp, op>{}): the one run-time switch per kernel launch
// (host code: it picks which loop or kernel to run).
template <class F>
inline void visit_unary(UnaryOp op, F&& f) {
  switch (op) {
#define FACET_VISIT(name, str) \
  case UnaryOp::name: f(std::integral_constant<UnaryOp, UnaryOp::name>{}); break;
    FACET_UNARY_OPS(FACET_VISIT)
#undef FACET_VISIT
  }
}

template <class F>
inline void visit_binary(BinaryOp op, F&& f) {
  switch (op) {
#define FACET_VISIT(name, str) \
  case BinaryOp::name: f(std::integral_constant<BinaryOp, BinaryOp::name>{}); break;
    FACET_BINARY_OPS(FACET_VISIT)
#undef FACET_VISIT
  }
}

}  // namespace facet
