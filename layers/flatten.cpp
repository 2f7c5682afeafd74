#include "layers/flatten.h"

#include <ostream>

#include "autograd/functions.h"

namespace facet::nn {

Tensor FlattenImpl::forward(const Tensor& x) const { return flatten(x, start_dim, end_dim); }

void FlattenImpl::pretty_print(std::ostream& os) const {
  os << "Flatten(start_dim=" << start_dim << ", end_dim=" << end_dim << ")";
}

}  // namespace facet::nn
