#pragma once
// CPU kernels. The front door (core/ops) has checked every argument: shapes agree, dtypes are
// supported, index values are in range, outputs are allocated. Kernels read strided inputs and
// write the outputs they are given.
#include <cstdint>

#include "core/elementwise_math.h"
#include "core/tensor.h"

namespace facet::cpu {

void copy(const Tensor& dst, const Tensor& src);  // same shape, any strides and dtypes
void fill(const Tensor& dst, double value);

// Inputs already expanded to out's shape (stride 0 where broadcast); out contiguous.
void unary(UnaryOp op, const Tensor& x, double a, double b, const Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

enum class Reduce { Sum, Mean, Max, Argmax };
// x contiguous, seen as [outer, n, inner]; out contiguous [outer, inner].
void reduce(Reduce kind, const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out);

// out[b] = a[b] @ bm[b] for every batch entry; the last two dims of a and bm are BLAS-ready
// (one of their strides is 1), batch dims already expanded to out's.
void matmul(const Tensor& a, const Tensor& bm, const Tensor& out);

// x and out contiguous, seen as [outer, n, inner].
void softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, const Tensor& out);
void normalize(const Tensor& x, int64_t outer, int64_t n, int64_t inner, double eps, const Tensor& out);

// x, source and out contiguous, seen as [outer, n, inner]; index contiguous int64.
void index_select(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index,
                  const Tensor& out);
void index_add(const Tensor& index, const Tensor& source, int64_t outer, int64_t n, int64_t inner,
               const Tensor& out);
// index and src are [outer, k, inner], out (or x) [outer, n, inner].
void gather(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& index,
            const Tensor& out);
void scatter_add(const Tensor& index, const Tensor& src, int64_t outer, int64_t n, int64_t inner,
                 const Tensor& out);
void one_hot(const Tensor& labels, int64_t num_classes, const Tensor& out);

void uniform(const Tensor& out, double lo, double hi, uint64_t seed, uint64_t offset);
void normal(const Tensor& out, double mean, double stddev, uint64_t seed, uint64_t offset);

}  // namespace facet::cpu
