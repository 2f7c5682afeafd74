#include "layers/dropout.h"

#include <ostream>

#include "autograd/functions.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet::nn {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  FACET_CHECK(p >= 0 && p <= 1, "dropout", "a probability p in [0, 1]", std::to_string(p));
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  const Tensor u = empty_like(x);
  ops::uniform_(u, 0.0, 1.0, gen ? *gen : default_generator());
  const Tensor mask = ops::binary(BinaryOp::Mul, ops::binary(BinaryOp::Ge, u, p), 1.0 / (1.0 - p));
  return x * mask;
}

DropoutImpl::DropoutImpl(double p) : Module("Dropout"), p(p) {
  FACET_CHECK(p >= 0 && p <= 1, "Dropout", "a probability p in [0, 1]", std::to_string(p));
}

Tensor DropoutImpl::forward(const Tensor& x) const { return dropout(x, p, is_training()); }

void DropoutImpl::pretty_print(std::ostream& os) const { os << "Dropout(p=" << p << ")"; }

}  // namespace facet::nn
