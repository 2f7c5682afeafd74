// Training-mode batch normalization on the GPU. Statistics: one block per channel, two reads of
// the channel (mean, then squared deviations; block reductions in double). Normalize-scale-shift:
// one elementwise pass. Backward in two passes: one block per channel for sum(g) and
// sum(g * xhat), then one elementwise pass for the input gradient (core/batchnorm_math.h).
// Floor: stats read x twice, apply reads x and writes y, backward reads g and x twice. With a
// PReLU slope the activation is applied (and differentiated, y recomputed) in the same passes.
#include <algorithm>
#include <cstdint>

#include "core/batchnorm_math.h"
#include "core/prelu_math.h"
#include "core/dispatch.h"
#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/device_buffer.cuh"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

struct Layout {
  int64_t n, c, inner;
  __host__ __device__ int64_t count() const { return n * inner; }  // values per channel
  // Offset of value j (of count()) of channel ch.
  __device__ int64_t at(int64_t ch, int64_t j) const { return ((j / inner) * c + ch) * inner + j % inner; }
};

Layout layout(const Tensor& x) {
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  return {x.size(0), x.size(1), inner};
}

template <class T>
__device__ T value_or(const T* p, int64_t ch, T fallback) { return p ? p[ch] : fallback; }

// PReLU after the batchnorm, when `slope` is given: per channel, or one shared ([1]).
template <class T>
struct Slope {
  const T* p;
  bool shared;
  __device__ T at(int64_t ch) const { return p[shared ? 0 : ch]; }
};

template <class T>
__global__ void stats_kernel(const T* x, Layout l, T* mean, T* var) {
  const int64_t ch = blockIdx.x;
  double sum = 0;
  for (int64_t j = threadIdx.x; j < l.count(); j += blockDim.x) sum += x[l.at(ch, j)];
  const double mu = block_all_reduce(sum, SumOp{}, 0.0) / static_cast<double>(l.count());
  double sq = 0;
  for (int64_t j = threadIdx.x; j < l.count(); j += blockDim.x) {
    const double d = x[l.at(ch, j)] - mu;
    sq += d * d;
  }
  sq = block_reduce(sq, SumOp{}, 0.0);
  if (threadIdx.x == 0) {
    mean[ch] = static_cast<T>(mu);
    var[ch] = static_cast<T>(sq / static_cast<double>(l.count()));
  }
}

// The batchnorm output y (the backward recomputes it where PReLU follows).
template <class T>
__device__ T bn_output(T x, int64_t ch, T mu, T invstd, const T* w, const T* b) {
  return bn_forward(x, mu, invstd, value_or(w, ch, T(1)), value_or(b, ch, T(0)));
}

template <class T>
__global__ void apply_kernel(const T* x, Layout l, const T* mean, const T* var, const T* w, const T* b, Slope<T> a,
                             double eps, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t ch = (e / l.inner) % l.c;
    const T y = bn_output(x[e], ch, mean[ch], bn_invstd<T>(var[ch], eps), w, b);
    out[e] = a.p ? prelu_fn(y, a.at(ch)) : y;
  }
}

// The gradient reaching the batchnorm's output: g itself, or through PReLU at y.
template <class T>
__device__ T output_grad(T g, T y, int64_t ch, Slope<T> a) {
  return a.p ? prelu_grad_x(g, y, a.at(ch)) : g;
}

template <class T>
__global__ void grad_sums_kernel(const T* g, const T* x, Layout l, const T* mean, const T* var, const T* w, const T* b,
                                 Slope<T> a, double eps, double* sums, T* grad_w, T* grad_b) {
  const int64_t ch = blockIdx.x;
  const T mu = mean[ch], invstd = bn_invstd<T>(var[ch], eps);
  double sum_g = 0, sum_gxhat = 0, sum_slope = 0;
  for (int64_t j = threadIdx.x; j < l.count(); j += blockDim.x) {
    const int64_t at = l.at(ch, j);
    const T y = a.p ? bn_output(x[at], ch, mu, invstd, w, b) : T(0);
    const T gy = output_grad(g[at], y, ch, a);
    sum_g += gy;
    sum_gxhat += static_cast<double>(gy) * (x[at] - mu) * invstd;
    if (a.p) sum_slope += prelu_grad_slope(g[at], y);
  }
  sum_g = block_all_reduce(sum_g, SumOp{}, 0.0);
  sum_gxhat = block_all_reduce(sum_gxhat, SumOp{}, 0.0);
  sum_slope = block_reduce(sum_slope, SumOp{}, 0.0);
  if (threadIdx.x == 0) {
    sums[3 * ch] = sum_g;
    sums[3 * ch + 1] = sum_gxhat;
    sums[3 * ch + 2] = sum_slope;
    if (grad_w) grad_w[ch] = static_cast<T>(sum_gxhat);
    if (grad_b) grad_b[ch] = static_cast<T>(sum_g);
  }
}

// The slope's gradient from the per-channel sums: per channel, or summed over the channels in order.
template <class T>
__global__ void slope_grad_kernel(const double* sums, int64_t channels, bool shared, T* grad_slope) {
  if (!shared) {
    for (int64_t ch = threadIdx.x; ch < channels; ch += blockDim.x) grad_slope[ch] = static_cast<T>(sums[3 * ch + 2]);
    return;
  }
  if (threadIdx.x != 0) return;
  double total = 0;
  for (int64_t ch = 0; ch < channels; ++ch) total += sums[3 * ch + 2];
  grad_slope[0] = static_cast<T>(total);
}

template <class T>
__global__ void grad_input_kernel(const T* g, const T* x, Layout l, const T* mean, const T* var, const T* w, const T* b,
                                  Slope<T> a, double eps, const double* sums, int64_t total, T* grad_x) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t ch = (e / l.inner) % l.c;
    const T invstd = bn_invstd<T>(var[ch], eps);
    const auto k = bn_grad_coefficients(invstd, value_or(w, ch, T(1)), sums[3 * ch], sums[3 * ch + 1],
                                        static_cast<double>(l.count()));
    const T y = a.p ? bn_output(x[e], ch, mean[ch], invstd, w, b) : T(0);
    grad_x[e] = bn_grad_input(output_grad(g[e], y, ch, a), x[e], mean[ch], k);
  }
}

template <class T>
const T* ptr_or_null(const Tensor& t) { return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr; }
template <class T>
T* mut_or_null(const Tensor& t) { return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr; }

// The PReLU slope as the kernels take it (a null pointer: no activation).
template <class T>
Slope<T> slope_arg(const Tensor& slope) {
  return {ptr_or_null<T>(slope), slope.defined() && slope.numel() == 1};
}

// The running statistics (core/batchnorm_math.h) and the batch count, in one launch in place of
// the fifteen GPU operations (five scalar fills, products, sums and copies back) the same update
// takes composed of elementwise ops.
template <class T>
__global__ void running_kernel(BnRunningCoefficients<T> k, T* rm, T* rv, const T* bm, const T* bv, int64_t c,
                               int64_t* num_batches) {
  FACET_GRID_STRIDE_LOOP(ch, c) {
    rm[ch] = bn_running(rm[ch], k.keep, bm[ch], k.take_mean);
    rv[ch] = bn_running(rv[ch], k.keep, bv[ch], k.take_var);
  }
  if (num_batches != nullptr && blockIdx.x == 0 && threadIdx.x == 0) ++*num_batches;
}

}  // namespace

void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) {
  const Layout l = layout(x);
  if (l.c == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    stats_kernel<T><<<static_cast<unsigned>(l.c), kBlock, 0, stream(device)>>>(ptr_or_null<T>(x), l, mut_or_null<T>(mean),
                                                                                mut_or_null<T>(var));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight, const Tensor& bias,
                      const Tensor& slope, double eps, const Tensor& out) {
  const int64_t total = x.numel();
  if (total == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const Slope<T> a = slope_arg<T>(slope);
    apply_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(ptr_or_null<T>(x), layout(x), ptr_or_null<T>(mean),
                                                                     ptr_or_null<T>(var), ptr_or_null<T>(weight),
                                                                     ptr_or_null<T>(bias), a, eps, total, mut_or_null<T>(out));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& mean, const Tensor& var,
                         const Tensor& weight, const Tensor& bias, const Tensor& slope, double eps,
                         const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                         const Tensor& grad_slope) {
  const Layout l = layout(x);
  if (l.c == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  DeviceBuffer sums(static_cast<size_t>(3 * l.c) * sizeof(double), device);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const Slope<T> a = slope_arg<T>(slope);
    grad_sums_kernel<T><<<static_cast<unsigned>(l.c), kBlock, 0, stream(device)>>>(
        ptr_or_null<T>(grad), ptr_or_null<T>(x), l, ptr_or_null<T>(mean), ptr_or_null<T>(var), ptr_or_null<T>(weight),
        ptr_or_null<T>(bias), a, eps, sums.as<double>(), mut_or_null<T>(grad_weight), mut_or_null<T>(grad_bias));
    FACET_CUDA_CHECK_LAUNCH();
    if (grad_slope.defined()) {
      slope_grad_kernel<T><<<1, kBlock, 0, stream(device)>>>(sums.as<double>(), l.c, a.shared, mut_or_null<T>(grad_slope));
      FACET_CUDA_CHECK_LAUNCH();
    }
    if (!grad_x.defined() || x.numel() == 0) return;
    grad_input_kernel<T><<<grid_for(x.numel()), kBlock, 0, stream(device)>>>(
        ptr_or_null<T>(grad), ptr_or_null<T>(x), l, ptr_or_null<T>(mean), ptr_or_null<T>(var), ptr_or_null<T>(weight),
        ptr_or_null<T>(bias), a, eps, sums.as<double>(), x.numel(), mut_or_null<T>(grad_x));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_update_running(const Tensor& running_mean, const Tensor& running_var, const Tensor& num_batches,
                               const Tensor& mean, const Tensor& var, double momentum, int64_t count) {
  const int64_t c = running_mean.numel();
  if (c == 0 && !num_batches.defined()) return;
  const int device = running_mean.device().index;
  DeviceGuard guard(device);
  dispatch_floating(running_mean.dtype(), "batch_norm running statistics", [&](auto tag) {
    using T = decltype(tag);
    running_kernel<T><<<grid_for(std::max<int64_t>(c, 1)), kBlock, 0, stream(device)>>>(
        BnRunningCoefficients<T>(momentum, static_cast<double>(count)), mut_or_null<T>(running_mean),
        mut_or_null<T>(running_var), ptr_or_null<T>(mean), ptr_or_null<T>(var), c,
        num_batches.defined() ? static_cast<int64_t*>(num_batches.raw_data()) : nullptr);
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
