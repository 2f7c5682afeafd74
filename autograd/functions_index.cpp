// Differentiable indexing. Each op's backward is its scatter/gather partner:
// index_select <-> index_add and gather <-> scatter_add.
#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const Tensor out = ops::index_select(x, dim, index);
  return record("IndexSelectBackward", out, {x},
                [shape = x.shape(), dtype = x.dtype(), device = x.device(), dim, index = ops::alias(index)](
                    const Tensor& g, const NeedsGrad&) {
                  return std::vector<Tensor>{ops::index_add(zeros(shape, dtype, device), dim, index, ops::contiguous(g))};
                });
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  const Tensor out = ops::index_add(x, dim, index, source);
  return record("IndexAddBackward", out, {x, source},
                [dim, index = ops::alias(index)](const Tensor& g, const NeedsGrad& needs) {
                  return std::vector<Tensor>{g, needs[1] ? ops::index_select(g, dim, index) : Tensor()};
                });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const Tensor out = ops::gather(x, dim, index);
  return record("GatherBackward", out, {x},
                [shape = x.shape(), dtype = x.dtype(), device = x.device(), dim, index = ops::alias(index)](
                    const Tensor& g, const NeedsGrad&) {
                  return std::vector<Tensor>{ops::scatter_add(zeros(shape, dtype, device), dim, index, ops::contiguous(g))};
                });
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const Tensor out = ops::scatter_add(x, dim, index, src);
  return record("ScatterAddBackward", out, {x, src},
                [dim, index = ops::alias(index)](const Tensor& g, const NeedsGrad& needs) {
                  return std::vector<Tensor>{g, needs[1] ? ops::gather(g, dim, index) : Tensor()};
                });
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype) { return ops::one_hot(labels, num_classes, dtype); }

}  // namespace facet
