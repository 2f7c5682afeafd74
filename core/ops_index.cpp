// Front door of the indexing ops. Index values are range-checked here, before any backend runs,
// so a bad label is a facet::Error and never an out-of-bounds write (on the GPU the error comes at
// the next wait, and the kernels skip the bad values until then).
#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

// The checks every indexing op shares. A `row_index` is 0-d or 1-d and picks whole slices along
// dim (index_select, index_add); otherwise the index has x's shape except along dim (gather,
// scatter_add: the stricter half of PyTorch's rule, which keeps them exact inverses).
// Returns dim wrapped into [0, x.dim()).
int64_t check_indexing(const char* op, const Tensor& x, int64_t dim, const Tensor& index, bool row_index) {
  check_defined(op, x, "the input");
  check_defined(op, index, "the index");
  FACET_CHECK(x.dim() > 0, op, "a tensor with at least one dim", x.describe());
  dim = wrap_dim(op, dim, x.dim());
  check_same_device(op, x, index);
  if (row_index) {
    FACET_CHECK(index.dim() <= 1, op, "a 0-d or 1-d index", index.describe());
  } else {
    FACET_CHECK(index.dim() == x.dim(), op, "an index with the input's number of dims",
                index.describe() + " for " + x.describe());
    for (int64_t d = 0; d < x.dim(); ++d)
      FACET_CHECK(d == dim || index.size(d) == x.size(d), op,
                  "index sizes equal to the input's except along dim " + std::to_string(dim),
                  index.describe() + " for " + x.describe());
  }
  check_device_exists(op, x.device());
  check_index_range(op, index, x.size(dim), "indices along dim " + std::to_string(dim));
  return dim;
}

// The source of an accumulating op: x's device and dtype, and exactly the shape `want`.
void check_source(const char* op, const Tensor& x, const Tensor& source, const Shape& want) {
  check_defined(op, source, "the source");
  check_floating(op, x);
  check_same_device(op, x, source);
  check_same_dtype(op, x, source);
  FACET_CHECK(source.shape() == want, op, "a source of shape " + shape_str(want), source.describe());
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = check_indexing("index_select", x, dim, index, true);
  const DimSplit s = split_at(x.shape(), dim);
  Shape shape = x.shape();
  shape[dim] = index.numel();
  Tensor out = output("index_select", shape, x.dtype(), x.device());
  const Tensor xc = contiguous(x), ic = contiguous(index);
  FACET_DISPATCH("index_select", x, index_select, xc, s.outer, s.n, s.inner, ic, out);
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  dim = check_indexing("index_add", x, dim, index, true);
  Shape want = x.shape();
  want[dim] = index.numel();
  check_source("index_add", x, source, want);
  const DimSplit s = split_at(x.shape(), dim);
  Tensor out = clone(x);
  const Tensor ic = contiguous(index), sc = contiguous(source);
  FACET_DISPATCH("index_add", x, index_add, ic, sc, s.outer, s.n, s.inner, out);
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = check_indexing("gather", x, dim, index, false);
  const DimSplit s = split_at(x.shape(), dim);
  Tensor out = output("gather", index.shape(), x.dtype(), x.device());
  const Tensor xc = contiguous(x), ic = contiguous(index);
  FACET_DISPATCH("gather", x, gather, xc, s.outer, s.n, s.inner, ic, out);
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = check_indexing("scatter_add", x, dim, index, false);
  check_source("scatter_add", x, src, index.shape());
  const DimSplit s = split_at(x.shape(), dim);
  Tensor out = clone(x);
  const Tensor ic = contiguous(index), sc = contiguous(src);
  FACET_DISPATCH("scatter_add", x, scatter_add, ic, sc, s.outer, s.n, s.inner, out);
  return out;
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype) {
  check_defined("one_hot", labels, "the labels");
  FACET_CHECK(num_classes > 0, "one_hot", "num_classes > 0", std::to_string(num_classes));
  check_index_range("one_hot", labels, num_classes, "labels");
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = output("one_hot", shape, dtype, labels.device());
  const Tensor lc = contiguous(labels);
  FACET_DISPATCH("one_hot", labels, one_hot, lc, num_classes, out);
  return out;
}

}  // namespace facet::ops
