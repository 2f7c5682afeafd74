// Front door of the indexing ops. Index values are range-checked here, before any backend runs,
// so a bad label is a facet::Error and never an out-of-bounds write.
#include "core/factory.h"
#include "core/ops_common.h"
#include "cpu/cpu.h"

namespace facet::ops {

using namespace detail;

namespace {

std::string dim_str(int64_t d) { return "dim " + std::to_string(d); }

// index must have x's shape except along dim (the stricter half of PyTorch's rule, which keeps
// gather and scatter_add exact inverses of each other).
void check_gather_shapes(const char* op, const Tensor& x, int64_t dim, const Tensor& index) {
  FACET_CHECK(index.dim() == x.dim(), op, "an index with the input's number of dims",
              index.describe() + " for " + x.describe());
  for (int64_t d = 0; d < x.dim(); ++d)
    FACET_CHECK(d == dim || index.size(d) == x.size(d), op,
                "index sizes equal to the input's except along " + dim_str(dim),
                index.describe() + " for " + x.describe());
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("index_select", x, "the input");
  check_defined("index_select", index, "the index");
  FACET_CHECK(x.dim() > 0, "index_select", "a tensor with at least one dim", x.describe());
  dim = wrap_dim("index_select", dim, x.dim());
  FACET_CHECK(index.dim() <= 1, "index_select", "a 0-d or 1-d index", index.describe());
  check_same_device("index_select", x, index);
  check_index_range("index_select", index, x.size(dim), "indices along " + dim_str(dim));
  const DimSplit s = split_at(x.shape(), dim);
  Shape shape = x.shape();
  shape[dim] = index.numel();
  Tensor out = empty(shape, x.dtype(), x.device());
  const Tensor xc = contiguous(x), ic = contiguous(index);
  dispatch("index_select", x, [&] { cpu::index_select(xc, s.outer, s.n, s.inner, ic, out); });
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  check_defined("index_add", x, "the input");
  check_defined("index_add", index, "the index");
  check_defined("index_add", source, "the source");
  check_floating("index_add", x);
  FACET_CHECK(x.dim() > 0, "index_add", "a tensor with at least one dim", x.describe());
  dim = wrap_dim("index_add", dim, x.dim());
  FACET_CHECK(index.dim() <= 1, "index_add", "a 0-d or 1-d index", index.describe());
  check_same_device("index_add", x, index);
  check_same_device("index_add", x, source);
  check_same_dtype("index_add", x, source);
  Shape want = x.shape();
  want[dim] = index.numel();
  FACET_CHECK(source.shape() == want, "index_add", "a source of shape " + shape_str(want),
              source.describe());
  check_index_range("index_add", index, x.size(dim), "indices along " + dim_str(dim));
  const DimSplit s = split_at(x.shape(), dim);
  Tensor out = clone(x);
  const Tensor ic = contiguous(index), sc = contiguous(source);
  dispatch("index_add", x, [&] { cpu::index_add(ic, sc, s.outer, s.n, s.inner, out); });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("gather", x, "the input");
  check_defined("gather", index, "the index");
  FACET_CHECK(x.dim() > 0, "gather", "a tensor with at least one dim", x.describe());
  dim = wrap_dim("gather", dim, x.dim());
  check_same_device("gather", x, index);
  check_gather_shapes("gather", x, dim, index);
  check_index_range("gather", index, x.size(dim), "indices along " + dim_str(dim));
  const DimSplit s = split_at(x.shape(), dim);
  Tensor out = empty(index.shape(), x.dtype(), x.device());
  const Tensor xc = contiguous(x), ic = contiguous(index);
  dispatch("gather", x, [&] { cpu::gather(xc, s.outer, s.n, s.inner, ic, out); });
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  check_defined("scatter_add", x, "the input");
  check_defined("scatter_add", index, "the index");
  check_defined("scatter_add", src, "the source");
  check_floating("scatter_add", x);
  FACET_CHECK(x.dim() > 0, "scatter_add", "a tensor with at least one dim", x.describe());
  dim = wrap_dim("scatter_add", dim, x.dim());
  check_same_device("scatter_add", x, index);
  check_same_device("scatter_add", x, src);
  check_same_dtype("scatter_add", x, src);
  check_gather_shapes("scatter_add", x, dim, index);
  FACET_CHECK(src.shape() == index.shape(), "scatter_add", "a source of the index's shape " + shape_str(index.shape()),
              src.describe());
  check_index_range("scatter_add", index, x.size(dim), "indices along " + dim_str(dim));
  const DimSplit s = split_at(x.shape(), dim);
  Tensor out = clone(x);
  const Tensor ic = contiguous(index), sc = contiguous(src);
  dispatch("scatter_add", x, [&] { cpu::scatter_add(ic, sc, s.outer, s.n, s.inner, out); });
  return out;
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype) {
  check_defined("one_hot", labels, "the labels");
  FACET_CHECK(num_classes > 0, "one_hot", "num_classes > 0", std::to_string(num_classes));
  check_index_range("one_hot", labels, num_classes, "labels");
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = empty(shape, dtype, labels.device());
  const Tensor lc = contiguous(labels);
  dispatch("one_hot", labels, [&] { cpu::one_hot(lc, num_classes, out); });
  return out;
}

}  // namespace facet::ops
