// The fused margin softmax cross-entropy (core/margin_math.h), the per-element math shared with
// cpu/margin_softmax.cpp. Forward: one block per row; every thread evaluates the margin at the
// label (one broadcast load) and block reductions give the max, then the sum of exponentials and
// of the logits (double accumulation, fixed order: deterministic); thread 0 writes the row's loss
// and log-sum-exp. Backward: one thread per element of dx, reading the row's saved log-sum-exp.
// No one-hot and no logit matrix is stored.
// Floor: forward reads x twice (max, then sum; a row of C floats stays in L1/L2 for C up to a few
// 10^4), so B·C·4 bytes from DRAM; backward reads x and writes dx, B·C·8 bytes. Not yet measured
// on a GPU.
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

constexpr int64_t kMaxRowBlocks = int64_t{1} << 20;

template <class T>
__global__ void margin_ce_forward_rows(const T* x, const int64_t* labels, int64_t rows, int64_t classes,
                                       MarginSpec spec, double smoothing, T* loss, double* lse) {
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const T* row = x + i * classes;
    // A label out of range reads class 0 here; its range check throws at the next wait.
    const int64_t y = labels[i] >= 0 && labels[i] < classes ? labels[i] : 0;
    const double target = margin_logit(spec, row[y], true);
    double mx = target;
    for (int64_t j = threadIdx.x; j < classes; j += blockDim.x)
      if (j != y) mx = fmax(mx, spec.scale * static_cast<double>(row[j]));
    mx = block_all_reduce(mx, MaxOp{}, -HUGE_VAL);
    double total = 0, logit_sum = 0;
    for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) {
      const double z = j == y ? target : spec.scale * static_cast<double>(row[j]);
      total += exp(z - mx);
      logit_sum += z;
    }
    total = block_all_reduce(total, SumOp{}, 0.0);
    logit_sum = block_all_reduce(logit_sum, SumOp{}, 0.0);
    if (threadIdx.x == 0) {
      const double row_lse = mx + ::log(total);
      lse[i] = row_lse;
      loss[i] = static_cast<T>(margin_row_loss(row_lse, target, logit_sum, smoothing, static_cast<double>(classes)));
    }
  }
}

template <class T>
__global__ void margin_ce_backward_elements(const T* x, const int64_t* labels, const double* lse, const T* row_grad,
                                            int64_t rows, int64_t classes, MarginSpec spec, double smoothing, T* dx) {
  FACET_GRID_STRIDE_LOOP(k, rows * classes) {
    const int64_t i = k / classes, j = k % classes;
    dx[k] = static_cast<T>(margin_ce_grad(spec, x[k], j == labels[i], lse[i], row_grad[i], smoothing,
                                          static_cast<double>(classes)));
  }
}

template <class T>
__global__ void margin_target_elements(const T* x, int64_t n, MarginSpec spec, bool slope, T* out) {
  FACET_GRID_STRIDE_LOOP(k, n) {
    const MarginTarget t = facet::margin_target(spec, x[k]);
    out[k] = static_cast<T>(slope ? t.slope : t.value);
  }
}

}  // namespace

void margin_ce_forward(const Tensor& x, const Tensor& labels, const MarginSpec& spec, double smoothing,
                       const Tensor& loss, const Tensor& lse) {
  const int64_t rows = x.size(0), classes = x.size(1);
  if (rows == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "margin_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const unsigned grid = static_cast<unsigned>(rows < kMaxRowBlocks ? rows : kMaxRowBlocks);
    margin_ce_forward_rows<T><<<grid, kBlock, 0, stream(device)>>>(
        static_cast<const T*>(x.raw_data()), static_cast<const int64_t*>(labels.raw_data()), rows, classes, spec,
        smoothing, static_cast<T*>(loss.raw_data()), static_cast<double*>(lse.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void margin_ce_backward(const Tensor& x, const Tensor& labels, const Tensor& lse, const Tensor& row_grad,
                        const MarginSpec& spec, double smoothing, const Tensor& grad_x) {
  const int64_t rows = x.size(0), classes = x.size(1);
  if (rows * classes == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "margin_cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    margin_ce_backward_elements<T><<<grid_for(rows * classes), kBlock, 0, stream(device)>>>(
        static_cast<const T*>(x.raw_data()), static_cast<const int64_t*>(labels.raw_data()),
        static_cast<const double*>(lse.raw_data()), static_cast<const T*>(row_grad.raw_data()), rows, classes, spec,
        smoothing, static_cast<T*>(grad_x.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void margin_target(const Tensor& x, const MarginSpec& spec, bool slope, const Tensor& out) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "margin_target", [&](auto tag) {
    using T = decltype(tag);
    margin_target_elements<T><<<grid_for(n), kBlock, 0, stream(device)>>>(
        static_cast<const T*>(x.raw_data()), n, spec, slope, static_cast<T*>(out.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
