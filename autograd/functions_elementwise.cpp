// Differentiable elementwise ops. Backward formulas are the textbook derivatives, written with
// raw core ops (which record nothing); broadcast inputs get their gradient summed back.
#include <cmath>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

namespace {

using ops::alias;
using ops::sum_to;

Tensor raw(BinaryOp op, const Tensor& a, const Tensor& b) { return ops::binary(op, a, b); }
Tensor raw(BinaryOp op, const Tensor& a, double b) { return ops::binary(op, a, b); }

// A unary op whose gradient is g * local(x, y), with x the input and y the output.
template <class Local>
Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double a, double b, Local local) {
  const Tensor out = ops::unary(op, x, a, b);
  return record(name, out, {x}, [x = alias(x), y = alias(out), local](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{raw(BinaryOp::Mul, g, local(x, y))};
  });
}

Tensor comparison(BinaryOp op, const Tensor& a, const Tensor& b) { return ops::binary(op, a, b); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record("AddBackward", ops::binary(BinaryOp::Add, a, b), {a, b},
                [sa = a.shape(), sb = b.shape()](const Tensor& g, const NeedsGrad&) {
                  return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
                });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record("SubBackward", ops::binary(BinaryOp::Sub, a, b), {a, b},
                [sa = a.shape(), sb = b.shape()](const Tensor& g, const NeedsGrad& needs) {
                  return std::vector<Tensor>{sum_to(g, sa),
                                             needs[1] ? sum_to(ops::unary(UnaryOp::Neg, g), sb) : Tensor()};
                });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return record("MulBackward", ops::binary(BinaryOp::Mul, a, b), {a, b},
                [a = alias(a), b = alias(b)](const Tensor& g, const NeedsGrad& needs) {
                  return std::vector<Tensor>{needs[0] ? sum_to(raw(BinaryOp::Mul, g, b), a.shape()) : Tensor(),
                                             needs[1] ? sum_to(raw(BinaryOp::Mul, g, a), b.shape()) : Tensor()};
                });
}

Tensor div(const Tensor& a, const Tensor& b) {
  const Tensor out = ops::binary(BinaryOp::Div, a, b);
  return record("DivBackward", out, {a, b},
                [a = alias(a), b = alias(b), y = alias(out)](const Tensor& g, const NeedsGrad& needs) {
                  const Tensor ga = raw(BinaryOp::Div, g, b);  // d(a/b)/da = 1/b; d/db = -(a/b)/b
                  return std::vector<Tensor>{
                      needs[0] ? sum_to(ga, a.shape()) : Tensor(),
                      needs[1] ? sum_to(ops::unary(UnaryOp::Neg, raw(BinaryOp::Mul, ga, y)), b.shape()) : Tensor()};
                });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  const Tensor out = ops::binary(BinaryOp::Pow, a, b);
  return record("PowBackward", out, {a, b},
                [a = alias(a), b = alias(b), y = alias(out)](const Tensor& g, const NeedsGrad& needs) {
                  Tensor ga, gb;
                  if (needs[0]) {  // b * a^(b-1)
                    const Tensor local = raw(BinaryOp::Mul, b, raw(BinaryOp::Pow, a, raw(BinaryOp::Sub, b, 1.0)));
                    ga = sum_to(raw(BinaryOp::Mul, g, local), a.shape());
                  }
                  if (needs[1]) {  // a^b * log(a), taken as 0 where a = 0 (the limit for b > 0), as PyTorch
                    const Tensor local = raw(BinaryOp::Mul, y, ops::unary(UnaryOp::Log, a));
                    const Tensor safe = ops::where(raw(BinaryOp::Eq, a, 0.0), zeros_like(local), local);
                    gb = sum_to(raw(BinaryOp::Mul, g, safe), b.shape());
                  }
                  return std::vector<Tensor>{ga, gb};
                });
}

Tensor pow(const Tensor& x, double p) {
  return unary_op("PowBackward", UnaryOp::PowScalar, x, p, 0.0, [p](const Tensor& x, const Tensor&) {
    return p == 0.0 ? zeros_like(x) : raw(BinaryOp::Mul, ops::unary(UnaryOp::PowScalar, x, p - 1.0), p);
  });
}

Tensor neg(const Tensor& x) {
  return record("NegBackward", ops::unary(UnaryOp::Neg, x), {x}, [](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{ops::unary(UnaryOp::Neg, g)};
  });
}

Tensor exp(const Tensor& x) {
  return unary_op("ExpBackward", UnaryOp::Exp, x, 0, 0, [](const Tensor&, const Tensor& y) { return y; });
}

Tensor log(const Tensor& x) {
  return unary_op("LogBackward", UnaryOp::Log, x, 0, 0,
                  [](const Tensor& x, const Tensor&) { return raw(BinaryOp::Div, ones_like(x), x); });
}

Tensor sqrt(const Tensor& x) {
  return unary_op("SqrtBackward", UnaryOp::Sqrt, x, 0, 0,
                  [](const Tensor&, const Tensor& y) { return raw(BinaryOp::Div, full_like(y, 0.5), y); });
}

Tensor abs(const Tensor& x) {
  return unary_op("AbsBackward", UnaryOp::Abs, x, 0, 0,
                  [](const Tensor& x, const Tensor&) { return ops::unary(UnaryOp::Sign, x); });
}

// Both backwards are one pass over the gradient and the output (BinaryOp::ReluBackward), not a
// mask followed by a product.
Tensor relu(const Tensor& x) {
  const Tensor out = ops::unary(UnaryOp::Relu, x);
  return record("ReluBackward", out, {x}, [y = alias(out)](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{raw(BinaryOp::ReluBackward, g, y)};
  });
}

Tensor add_relu(const Tensor& a, const Tensor& b) {
  const Tensor out = ops::binary(BinaryOp::AddRelu, a, b);
  return record("AddReluBackward", out, {a, b},
                [y = alias(out), sa = a.shape(), sb = b.shape()](const Tensor& g, const NeedsGrad& needs) {
                  const Tensor gy = raw(BinaryOp::ReluBackward, g, y);
                  return std::vector<Tensor>{needs[0] ? sum_to(gy, sa) : Tensor(), needs[1] ? sum_to(gy, sb) : Tensor()};
                });
}

Tensor sigmoid(const Tensor& x) {
  return unary_op("SigmoidBackward", UnaryOp::Sigmoid, x, 0, 0, [](const Tensor&, const Tensor& y) {
    return raw(BinaryOp::Mul, y, ops::binary(BinaryOp::Sub, ones_like(y), y));
  });
}

Tensor tanh(const Tensor& x) {
  return unary_op("TanhBackward", UnaryOp::Tanh, x, 0, 0, [](const Tensor&, const Tensor& y) {
    return ops::binary(BinaryOp::Sub, ones_like(y), raw(BinaryOp::Mul, y, y));
  });
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  FACET_CHECK(!(lo > hi), "clamp", "lo <= hi", std::to_string(lo) + " > " + std::to_string(hi));
  return unary_op("ClampBackward", UnaryOp::Clamp, x, lo, hi, [lo, hi](const Tensor& x, const Tensor&) {
    return raw(BinaryOp::Mul, raw(BinaryOp::Ge, x, lo), raw(BinaryOp::Le, x, hi));
  });
}

Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, INFINITY); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, -INFINITY, hi); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  return record("WhereBackward", ops::where(cond, a, b), {a, b},
                [c = alias(cond), sa = a.shape(), sb = b.shape()](const Tensor& g, const NeedsGrad& needs) {
                  const Tensor zero = zeros({}, g.dtype(), g.device());
                  return std::vector<Tensor>{needs[0] ? sum_to(ops::where(c, g, zero), sa) : Tensor(),
                                             needs[1] ? sum_to(ops::where(c, zero, g), sb) : Tensor()};
                });
}

Tensor eq(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return comparison(BinaryOp::Ge, a, b); }

namespace {
Tensor scalar_for(const Tensor& like, double v) {
  FACET_CHECK(like.defined(), "scalar op", "a defined tensor", "an undefined tensor");
  return scalar_tensor(v, like.dtype(), like.device());
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_for(a, b)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_for(a, b)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_for(a, b)); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_for(a, b)); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_for(b, a), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_for(b, a), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_for(b, a), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_for(b, a), b); }

}  // namespace facet
