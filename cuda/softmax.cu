// softmax / log_softmax and L2 normalize (forward and backward) along the middle dim of a
// contiguous [outer, n, inner] view. inner == 1 (rows, the common case: logits [batch, classes], embeddings [batch, dim]):
// one block per row, block-wide max and sum (double accumulation, as on the CPU). inner > 1: one
// thread per lane. The max is subtracted before exponentiating, so nothing overflows.
// Floor: one read and one write per element (the row kernels read x two or three times; a row
// of a few thousand floats stays in L1/L2). Measured by bench/cuda_kernels.
#include <cmath>
#include <cstdint>

#include "core/dispatch.h"
#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

// max(norm, eps) that keeps a NaN norm NaN, as std::max on the CPU and PyTorch's clamp_min do
// (fmax would drop it).
__device__ double at_least(double norm, double eps) { return norm < eps ? eps : norm; }

// Rows beyond the grid are taken by a block-stride loop, so any row count fits a capped grid.
constexpr int64_t kMaxRowBlocks = int64_t{1} << 20;

unsigned row_grid(int64_t rows) { return static_cast<unsigned>(rows < kMaxRowBlocks ? rows : kMaxRowBlocks); }

template <class T>
__device__ void softmax_row(const T* p, int64_t n, bool log, T* q) {
  double mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) mx = fmax(mx, static_cast<double>(p[j]));
  mx = block_all_reduce(mx, MaxOp{}, -HUGE_VAL);
  double total = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) total += exp(static_cast<double>(p[j]) - mx);
  total = block_all_reduce(total, SumOp{}, 0.0);
  const double log_total = ::log(total);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const double shifted = static_cast<double>(p[j]) - mx;
    q[j] = static_cast<T>(log ? shifted - log_total : exp(shifted) / total);
  }
}

template <class T>
__global__ void softmax_rows(const T* x, int64_t rows, int64_t n, bool log, T* out) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) softmax_row(x + row * n, n, log, out + row * n);
}

template <class T>
__global__ void softmax_lanes(const T* x, int64_t outer, int64_t n, int64_t inner, bool log, T* out) {
  FACET_GRID_STRIDE_LOOP(lane, outer * inner) {
    const int64_t first = (lane / inner) * n * inner + lane % inner;
    const T* p = x + first;
    T* q = out + first;
    double mx = -INFINITY;
    for (int64_t j = 0; j < n; ++j) mx = fmax(mx, static_cast<double>(p[j * inner]));
    double total = 0;
    for (int64_t j = 0; j < n; ++j) total += exp(static_cast<double>(p[j * inner]) - mx);
    const double log_total = ::log(total);
    for (int64_t j = 0; j < n; ++j) {
      const double shifted = static_cast<double>(p[j * inner]) - mx;
      q[j * inner] = static_cast<T>(log ? shifted - log_total : exp(shifted) / total);
    }
  }
}

template <class T>
__device__ void normalize_row(const T* p, int64_t n, double eps, T* q) {
  double sq = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sq += static_cast<double>(p[j]) * p[j];
  const double denom = at_least(::sqrt(block_all_reduce(sq, SumOp{}, 0.0)), eps);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) q[j] = static_cast<T>(p[j] / denom);
}

template <class T>
__global__ void normalize_rows(const T* x, int64_t rows, int64_t n, double eps, T* out) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) normalize_row(x + row * n, n, eps, out + row * n);
}

template <class T>
__global__ void normalize_lanes(const T* x, int64_t outer, int64_t n, int64_t inner, double eps, T* out) {
  FACET_GRID_STRIDE_LOOP(lane, outer * inner) {
    const int64_t first = (lane / inner) * n * inner + lane % inner;
    double sq = 0;
    for (int64_t j = 0; j < n; ++j) sq += static_cast<double>(x[first + j * inner]) * x[first + j * inner];
    const double denom = at_least(::sqrt(sq), eps);
    for (int64_t j = 0; j < n; ++j) out[first + j * inner] = static_cast<T>(x[first + j * inner] / denom);
  }
}

// normalize's input gradient: (g - x (g.x) / |x|^2) / |x| where |x| > eps, else g / eps.
template <class T>
__device__ void normalize_backward_row(const T* x, const T* g, int64_t n, double eps, T* out) {
  double sq = 0, dot = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    sq += static_cast<double>(x[j]) * x[j];
    dot += static_cast<double>(g[j]) * x[j];
  }
  sq = block_all_reduce(sq, SumOp{}, 0.0);
  dot = block_all_reduce(dot, SumOp{}, 0.0);
  const double norm = ::sqrt(sq);
  const bool above = norm > eps;
  const double scale = above ? 1.0 / norm : 1.0 / eps, along = above ? dot / sq : 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) out[j] = static_cast<T>((g[j] - x[j] * along) * scale);
}

template <class T>
__global__ void normalize_backward_rows(const T* x, const T* g, int64_t rows, int64_t n, double eps, T* out) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    normalize_backward_row(x + row * n, g + row * n, n, eps, out + row * n);
}

template <class T>
__global__ void normalize_backward_lanes(const T* x, const T* g, int64_t outer, int64_t n, int64_t inner, double eps,
                                         T* out) {
  FACET_GRID_STRIDE_LOOP(lane, outer * inner) {
    const int64_t first = (lane / inner) * n * inner + lane % inner;
    double sq = 0, dot = 0;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = first + j * inner;
      sq += static_cast<double>(x[k]) * x[k];
      dot += static_cast<double>(g[k]) * x[k];
    }
    const double norm = ::sqrt(sq);
    const bool above = norm > eps;
    const double scale = above ? 1.0 / norm : 1.0 / eps, along = above ? dot / sq : 0.0;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = first + j * inner;
      out[k] = static_cast<T>((g[k] - x[k] * along) * scale);
    }
  }
}

}  // namespace

void softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, const Tensor& out) {
  if (outer * n * inner == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    if (inner == 1) softmax_rows<T><<<row_grid(outer), kBlock, 0, stream(device)>>>(px, outer, n, log, po);
    else softmax_lanes<T><<<grid_for(outer * inner), kBlock, 0, stream(device)>>>(px, outer, n, inner, log, po);
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void normalize(const Tensor& x, int64_t outer, int64_t n, int64_t inner, double eps, const Tensor& out) {
  if (outer * n * inner == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "normalize", [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    if (inner == 1) normalize_rows<T><<<row_grid(outer), kBlock, 0, stream(device)>>>(px, outer, n, eps, po);
    else normalize_lanes<T><<<grid_for(outer * inner), kBlock, 0, stream(device)>>>(px, outer, n, inner, eps, po);
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void normalize_backward(const Tensor& x, const Tensor& grad, int64_t outer, int64_t n, int64_t inner, double eps,
                        const Tensor& out) {
  if (outer * n * inner == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "normalize backward", [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    const T* pg = static_cast<const T*>(grad.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    if (inner == 1) normalize_backward_rows<T><<<row_grid(outer), kBlock, 0, stream(device)>>>(px, pg, outer, n, eps, po);
    else normalize_backward_lanes<T><<<grid_for(outer * inner), kBlock, 0, stream(device)>>>(px, pg, outer, n, inner, eps, po);
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
