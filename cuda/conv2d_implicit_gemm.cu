// Convolution forward as an implicit GEMM: out[n, o, q] = bias[o] + sum_r W[o, r] * col(r, n, q),
// the product of the weight as a matrix [O, R = C*KH*KW] and the im2col matrix [R, N*OH*OW] —
// except that the column matrix is never written: each tile of it is gathered from the image
// straight into shared memory, its addresses from core/conv_math.h (window_origin / window_tap /
// tap_source, the halves of im2col_source that the CPU tests check), so no [R, N*OH*OW] buffer
// is allocated. float32 and float64, accumulated in the input's type with FMAs (no TF32).
//
// Launch: a 2-d grid of 256-thread blocks, block (bx, by) computing a BM x BN tile of the output
// matrix (BM output channels by BN output pixels, the pixels of all images in a row), K in steps of
// kBk = 16. Each thread holds a 4 x 4 micro-tile in registers, its rows and columns strided across
// the tile so that shared-memory reads are conflict-free and output stores coalesce. BM x BN is
// 64 x 64, or 32 x 128 when O <= 32 (the first layer of a small CNN). Per K step: the tile's 16
// taps are decoded once into shared memory, then the weight tile (reads along r) and the
// column tile (reads along output pixels: consecutive input pixels at stride 1) are loaded with
// zero fill outside the matrices, then 16 rank-1 updates.
//
// Floor at conv 32->64, 3x3, 28x28, batch 256: 2 * O * R * N * OH * OW = 7.4 GFLOP, 0.11 ms at
// the H200's 67 TFLOP/s FP32; bytes 77 MB (read x, write out), 0.016 ms at 4.8 TB/s: compute
// bound. Not yet measured on a GPU (bench/cuda_conv.cpp prints it beside im2col+cuBLAS and cuDNN).
#include <cstdint>

#include "core/dispatch.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/conv.h"

namespace facet::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kBk = 16;     // K step
constexpr int kTm = 4;      // micro-tile rows (output channels) per thread
constexpr int kTn = 4;      // micro-tile columns (output pixels) per thread
constexpr int kPad = 4;     // spreads the transposed weight tile's stores over the banks

template <class T, int BM, int BN>
__global__ void __launch_bounds__(kThreads)
    conv2d_implicit_gemm_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                WindowGeometry g, int64_t out_channels, int64_t columns, T* __restrict__ out) {
  constexpr int kThreadsN = BN / kTn, kThreadsM = BM / kTm;
  static_assert(kThreadsN * kThreadsM == kThreads, "one 4 x 4 micro-tile per thread");
  constexpr int kARows = kThreads / kBk;  // weight-tile rows loaded per pass
  constexpr int kBRows = kThreads / BN;   // column-tile rows loaded per pass
  static_assert(BM % kARows == 0 && kBk % kBRows == 0, "whole passes over both tiles");

  __shared__ T a_tile[kBk][BM + kPad];  // weight tile, transposed: a_tile[k][m] = W[m0 + m, k0 + k]
  __shared__ T b_tile[kBk][BN];         // column tile: b_tile[k][p] = col(k0 + k, p0 + p)
  __shared__ WindowTap taps[kBk];       // the taps of rows k0 .. k0 + 15 (c = -1 past the last row)

  const int tid = threadIdx.x;
  const int64_t rows = g.rows(), cols = g.cols();
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM, p0 = static_cast<int64_t>(blockIdx.x) * BN;

  // This thread's column-tile loads: always output pixel p0 + b_col, rows b_row + i * kBRows. Its
  // image and window corner are fixed for the whole K loop, so they are decoded once, here.
  const int b_col = tid % BN, b_row = tid / BN;
  const int64_t p = p0 + b_col;
  const bool p_valid = p < columns;
  const int64_t p_image = p_valid ? p / cols : 0;
  const WindowOrigin origin = window_origin(g, p_valid ? p % cols : 0);
  const T* image = x + p_image * g.image_size();
  // Weight-tile loads: r fastest across threads, so a warp reads two runs of 16 along a row of W.
  const int a_k = tid % kBk, a_m = tid / kBk;

  const int tx = tid % kThreadsN, ty = tid / kThreadsN;
  T acc[kTm][kTn];
#pragma unroll
  for (int i = 0; i < kTm; ++i)
#pragma unroll
    for (int j = 0; j < kTn; ++j) acc[i][j] = T(0);

  // Every thread runs every iteration (the bound is uniform), so the barriers below are reached by
  // all; partial tiles are handled by zero fill, never by an early exit.
  for (int64_t k0 = 0; k0 < rows; k0 += kBk) {
    if (tid < kBk) taps[tid] = k0 + tid < rows ? window_tap(g, k0 + tid) : WindowTap{-1, 0, 0};
#pragma unroll
    for (int i = 0; i < BM / kARows; ++i) {
      const int m = a_m + i * kARows;
      const int64_t gm = m0 + m, gk = k0 + a_k;
      a_tile[a_k][m] = gm < out_channels && gk < rows ? w[gm * rows + gk] : T(0);
    }
    __syncthreads();  // (1) taps written before anyone decodes with them
#pragma unroll
    for (int i = 0; i < kBk / kBRows; ++i) {
      const int k = b_row + i * kBRows;
      const WindowTap tap = taps[k];
      const int64_t at = p_valid && tap.c >= 0 ? tap_source(g, origin, tap) : -1;
      b_tile[k][b_col] = at < 0 ? T(0) : image[at];
    }
    __syncthreads();  // (2) both tiles complete before the products read them
#pragma unroll
    for (int k = 0; k < kBk; ++k) {
      T a[kTm], b[kTn];
#pragma unroll
      for (int i = 0; i < kTm; ++i) a[i] = a_tile[k][ty + i * kThreadsM];
#pragma unroll
      for (int j = 0; j < kTn; ++j) b[j] = b_tile[k][tx + j * kThreadsN];
#pragma unroll
      for (int i = 0; i < kTm; ++i)
#pragma unroll
        for (int j = 0; j < kTn; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();  // (3) products done before the next step overwrites taps and tiles
  }

#pragma unroll
  for (int j = 0; j < kTn; ++j) {
    const int64_t pj = p0 + tx + j * kThreadsN;
    if (pj >= columns) continue;
    const int64_t n = pj / cols, q = pj % cols;
#pragma unroll
    for (int i = 0; i < kTm; ++i) {
      const int64_t m = m0 + ty + i * kThreadsM;
      if (m >= out_channels) continue;
      out[(n * out_channels + m) * cols + q] = acc[i][j] + (bias != nullptr ? bias[m] : T(0));
    }
  }
}

template <class T, int BM, int BN>
void launch(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g, const Tensor& out,
            int device) {
  const int64_t out_channels = weight.size(0), columns = x.size(0) * g.cols();
  const dim3 grid(static_cast<unsigned>((columns + BN - 1) / BN), static_cast<unsigned>((out_channels + BM - 1) / BM));
  conv2d_implicit_gemm_kernel<T, BM, BN><<<grid, kThreads, 0, stream(device)>>>(
      static_cast<const T*>(x.raw_data()), static_cast<const T*>(weight.raw_data()),
      bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr, g, out_channels, columns,
      static_cast<T*>(out.raw_data()));
  FACET_CUDA_CHECK_LAUNCH();
}

}  // namespace

void conv2d_implicit_gemm(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                          const Tensor& out) {
  if (out.numel() == 0) return;  // the front door sends empty batches and channels elsewhere; a guard
  const int device = out.device().index;
  DeviceGuard guard(device);
  // Grid y holds at most 65535 channel tiles (2 million channels): past that the launch check
  // reports an invalid configuration.
  dispatch_floating(x.dtype(), "conv2d (implicit_gemm)", [&](auto tag) {
    using T = decltype(tag);
    if (weight.size(0) <= 32) launch<T, 32, 128>(x, weight, bias, g, out, device);
    else launch<T, 64, 64>(x, weight, bias, g, out, device);
  });
}

}  // namespace facet::cuda
