// Training-mode batch normalization on the GPU.
// - Statistics: one read of x. A channel's values are cut into chunks, a block per (channel,
//   chunk), so that a few channels still fill the device (one block per channel ran 32 blocks on
//   the H200's 132 SMs for 32 channels); each block sums x - x0 and (x - x0)^2 in double (x0, the
//   channel's first value, keeps the difference of the two sums free of cancellation), and a second
//   kernel adds each channel's chunks in order: deterministic.
// - Normalize-scale-shift: one elementwise pass.
// - Backward: the per-channel sums sum(g) and sum(g * xhat) the same way (chunks, then a pass that
//   adds them in order), then one elementwise pass for the input gradient (core/batchnorm_math.h).
// - Indices: a block walks its chunk by stepping the offset (no division per value); the
//   elementwise passes find an element's channel with core/fast_divide.h when the tensor has
//   fewer than 2^31 elements, as a 64-bit division costs more than the pass may spend per element.
// Floor: stats read x once, apply reads x and writes y, backward reads g and x twice and writes
// the input gradient. With a PReLU slope the activation is applied (and differentiated, y
// recomputed) in the same passes.
#include <algorithm>
#include <cstdint>

#include "core/batchnorm_math.h"
#include "core/prelu_math.h"
#include "core/dispatch.h"
#include "core/fast_divide.h"
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

// Chunks per channel for the reductions: at least kChunkValues values each, and about
// kReductionBlocks blocks in all when the channels are few.
constexpr int64_t kChunkValues = 4096, kReductionBlocks = 132 * 16;

int64_t chunks_for(const Layout& l) {
  const int64_t by_values = (l.count() + kChunkValues - 1) / kChunkValues;
  const int64_t by_blocks = std::max<int64_t>(1, kReductionBlocks / l.c);
  return std::clamp<int64_t>(std::min(by_values, by_blocks), 1, 65535);  // gridDim.y's limit
}

// Calls f(offset) for this thread's values of chunk blockIdx.y of channel blockIdx.x: value
// j = begin + threadIdx.x, then every blockDim.x on. One division finds the first offset; the next
// ones step by a whole image's run where the stride passes one.
template <class F>
__device__ void for_chunk_values(const Layout& l, F f) {
  const int64_t ch = blockIdx.x, chunks = gridDim.y, count = l.count();
  const int64_t begin = blockIdx.y * count / chunks, end = (blockIdx.y + 1) * count / chunks;
  const int64_t stride = blockDim.x, image = l.c * l.inner;  // between a channel's runs in two images
  const int64_t step_i = stride % l.inner, step_offset = (stride / l.inner) * image + step_i;
  int64_t j = begin + threadIdx.x;
  if (j >= end) return;
  int64_t i = j % l.inner, offset = l.at(ch, j);
  for (; j < end; j += stride) {
    f(offset);
    i += step_i;
    offset += step_offset;
    if (i >= l.inner) {  // carried into the next image's run
      i -= l.inner;
      offset += image - l.inner;
    }
  }
}

// partial[(ch * chunks + chunk) * 2 + k]: sum(x - x0), sum((x - x0)^2) over the chunk.
template <class T>
__global__ void stats_partial_kernel(const T* x, Layout l, double* partial) {
  const double x0 = x[l.at(blockIdx.x, 0)];
  double sum = 0, sq = 0;
  for_chunk_values(l, [&](int64_t at) {
    const double d = static_cast<double>(x[at]) - x0;
    sum += d;
    sq += d * d;
  });
  sum = block_reduce(sum, SumOp{}, 0.0);
  sq = block_reduce(sq, SumOp{}, 0.0);
  if (threadIdx.x == 0) {
    double* p = partial + (blockIdx.x * static_cast<int64_t>(gridDim.y) + blockIdx.y) * 2;
    p[0] = sum;
    p[1] = sq;
  }
}

template <class T>
__global__ void stats_finish_kernel(const T* x, Layout l, int64_t chunks, const double* partial, T* mean, T* var) {
  FACET_GRID_STRIDE_LOOP(ch, l.c) {
    double sum = 0, sq = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      sum += partial[(ch * chunks + k) * 2];
      sq += partial[(ch * chunks + k) * 2 + 1];
    }
    // No values (N = 0): 0 / 0, NaN, as on the CPU; x0 is then never read.
    const double n = static_cast<double>(l.count()), shifted_mean = sum / n;
    const double x0 = l.count() > 0 ? static_cast<double>(x[l.at(ch, 0)]) : 0.0;
    const double v = sq / n - shifted_mean * shifted_mean;  // rounding may leave it just below 0
    mean[ch] = static_cast<T>(x0 + shifted_mean);
    var[ch] = static_cast<T>(v < 0.0 ? 0.0 : v);
  }
}

// The channel of element e of a contiguous [N, C, inner...] tensor: (e / inner) % C, with
// FastDivider when fits_fast_divide(numel), else WideDivider.
template <class Divider>
struct ChannelSplit {
  Divider inner, c;
  __device__ int64_t operator()(int64_t e) const { return c.split(inner.split(e).quot).rem; }
};

// Runs launch(channel_of) with the cheaper index math where the tensor allows it.
template <class Launch>
void with_channel_of(const Layout& l, int64_t total, Launch&& launch) {
  if (fits_fast_divide(total))
    launch(ChannelSplit<FastDivider>{FastDivider(l.inner), FastDivider(l.c)});
  else
    launch(ChannelSplit<WideDivider>{{l.inner}, {l.c}});
}

// The batchnorm output y (the backward recomputes it where PReLU follows).
template <class T>
__device__ T bn_output(T x, int64_t ch, T mu, T invstd, const T* w, const T* b) {
  return bn_forward(x, mu, invstd, value_or(w, ch, T(1)), value_or(b, ch, T(0)));
}

template <class T, class ChannelOf>
__global__ void apply_kernel(const T* x, ChannelOf channel_of, const T* mean, const T* var, const T* w, const T* b,
                             Slope<T> a, double eps, int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t ch = channel_of(e);
    const T y = bn_output(x[e], ch, mean[ch], bn_invstd<T>(var[ch], eps), w, b);
    out[e] = a.p ? prelu_fn(y, a.at(ch)) : y;
  }
}

// The gradient reaching the batchnorm's output: g itself, or through PReLU at y.
template <class T>
__device__ T output_grad(T g, T y, int64_t ch, Slope<T> a) {
  return a.p ? prelu_grad_x(g, y, a.at(ch)) : g;
}

// partial[(ch * chunks + chunk) * 3 + k]: sum(g'), sum(g' * xhat) and the slope's sum over the
// chunk, g' the gradient reaching the batchnorm's output.
template <class T>
__global__ void grad_sums_partial_kernel(const T* g, const T* x, Layout l, const T* mean, const T* var, const T* w,
                                         const T* b, Slope<T> a, double eps, double* partial) {
  const int64_t ch = blockIdx.x;
  const T mu = mean[ch], invstd = bn_invstd<T>(var[ch], eps);
  double sum_g = 0, sum_gxhat = 0, sum_slope = 0;
  for_chunk_values(l, [&](int64_t at) {
    const T y = a.p ? bn_output(x[at], ch, mu, invstd, w, b) : T(0);
    const T gy = output_grad(g[at], y, ch, a);
    sum_g += gy;
    sum_gxhat += static_cast<double>(gy) * (x[at] - mu) * invstd;
    if (a.p) sum_slope += prelu_grad_slope(g[at], y);
  });
  sum_g = block_reduce(sum_g, SumOp{}, 0.0);
  sum_gxhat = block_reduce(sum_gxhat, SumOp{}, 0.0);
  sum_slope = block_reduce(sum_slope, SumOp{}, 0.0);
  if (threadIdx.x == 0) {
    double* p = partial + (ch * static_cast<int64_t>(gridDim.y) + blockIdx.y) * 3;
    p[0] = sum_g;
    p[1] = sum_gxhat;
    p[2] = sum_slope;
  }
}

// Each channel's chunks added in order into sums[3 * ch + k], and the weight's and bias's gradients.
template <class T>
__global__ void grad_sums_finish_kernel(int64_t channels, int64_t chunks, const double* partial, double* sums,
                                        T* grad_w, T* grad_b) {
  FACET_GRID_STRIDE_LOOP(ch, channels) {
    double total[3] = {0, 0, 0};
    for (int64_t k = 0; k < chunks; ++k)
      for (int q = 0; q < 3; ++q) total[q] += partial[(ch * chunks + k) * 3 + q];
    for (int q = 0; q < 3; ++q) sums[3 * ch + q] = total[q];
    if (grad_w) grad_w[ch] = static_cast<T>(total[1]);
    if (grad_b) grad_b[ch] = static_cast<T>(total[0]);
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

template <class T, class ChannelOf>
__global__ void grad_input_kernel(const T* g, const T* x, Layout l, ChannelOf channel_of, const T* mean, const T* var,
                                  const T* w, const T* b, Slope<T> a, double eps, const double* sums, int64_t total,
                                  T* grad_x) {
  FACET_GRID_STRIDE_LOOP(e, total) {
    const int64_t ch = channel_of(e);
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
  const int64_t chunks = chunks_for(l);
  DeviceBuffer partial(static_cast<size_t>(2 * l.c * chunks) * sizeof(double), device);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    if (l.count() > 0) {  // the partial kernel reads each channel's first value
      stats_partial_kernel<T><<<dim3(static_cast<unsigned>(l.c), static_cast<unsigned>(chunks)), kBlock, 0,
                                stream(device)>>>(ptr_or_null<T>(x), l, partial.as<double>());
      FACET_CUDA_CHECK_LAUNCH();
    }
    stats_finish_kernel<T><<<grid_for(l.c), kBlock, 0, stream(device)>>>(
        ptr_or_null<T>(x), l, l.count() > 0 ? chunks : 0, partial.as<double>(), mut_or_null<T>(mean), mut_or_null<T>(var));
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
    with_channel_of(layout(x), total, [&](auto channel_of) {
      apply_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(
          ptr_or_null<T>(x), channel_of, ptr_or_null<T>(mean), ptr_or_null<T>(var), ptr_or_null<T>(weight),
          ptr_or_null<T>(bias), a, eps, total, mut_or_null<T>(out));
      FACET_CUDA_CHECK_LAUNCH();
    });
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
  const int64_t chunks = chunks_for(l);
  DeviceBuffer sums(static_cast<size_t>(3 * l.c) * sizeof(double), device);
  DeviceBuffer partial(static_cast<size_t>(3 * l.c * chunks) * sizeof(double), device);
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const Slope<T> a = slope_arg<T>(slope);
    grad_sums_partial_kernel<T><<<dim3(static_cast<unsigned>(l.c), static_cast<unsigned>(chunks)), kBlock, 0,
                                  stream(device)>>>(ptr_or_null<T>(grad), ptr_or_null<T>(x), l, ptr_or_null<T>(mean),
                                                    ptr_or_null<T>(var), ptr_or_null<T>(weight), ptr_or_null<T>(bias), a,
                                                    eps, partial.as<double>());
    FACET_CUDA_CHECK_LAUNCH();
    grad_sums_finish_kernel<T><<<grid_for(l.c), kBlock, 0, stream(device)>>>(
        l.c, chunks, partial.as<double>(), sums.as<double>(), mut_or_null<T>(grad_weight), mut_or_null<T>(grad_bias));
    FACET_CUDA_CHECK_LAUNCH();
    if (grad_slope.defined()) {
      slope_grad_kernel<T><<<1, kBlock, 0, stream(device)>>>(sums.as<double>(), l.c, a.shared, mut_or_null<T>(grad_slope));
      FACET_CUDA_CHECK_LAUNCH();
    }
    if (!grad_x.defined() || x.numel() == 0) return;
    with_channel_of(l, x.numel(), [&](auto channel_of) {
      grad_input_kernel<T><<<grid_for(x.numel()), kBlock, 0, stream(device)>>>(
          ptr_or_null<T>(grad), ptr_or_null<T>(x), l, channel_of, ptr_or_null<T>(mean), ptr_or_null<T>(var),
          ptr_or_null<T>(weight), ptr_or_null<T>(bias), a, eps, sums.as<double>(), x.numel(), mut_or_null<T>(grad_x));
      FACET_CUDA_CHECK_LAUNCH();
    });
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
