// im2col, col2im and max pooling on the GPU: one thread per output element, each calling the
// per-element function of core/conv_math.h that the CPU loops call. col2im gathers (no atomics),
// so it is deterministic. Launch: grid-stride over the outputs. Floor: one write per output and
// one read per input element touched (reads of overlapping windows mostly hit L2).
#include <cstdint>

#include "core/dispatch.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

template <class T>
__global__ void im2col_kernel(const T* x, WindowGeometry g, int64_t batch, int64_t total, T* cols) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = (r * batch + b) * cols + q
    const int64_t q = e % g.cols(), b = (e / g.cols()) % batch, r = e / (g.cols() * batch);
    const int64_t at = im2col_source(g, r, q);
    cols[e] = at < 0 ? T(0) : x[b * g.image_size() + at];
  }
}

template <class T>
__global__ void col2im_kernel(const T* cols, WindowGeometry g, int64_t batch, int64_t total, T* x) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = b * image_size + pixel
    const int64_t p = e % g.image_size(), b = e / g.image_size();
    x[e] = col2im_gather(g, cols + b * g.cols(), batch * g.cols(), p);
  }
}

template <class T>
__global__ void max_pool_kernel(const T* x, WindowGeometry g, int64_t total, T* out, int64_t* indices) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = (b * C + c) * cols + q
    const int64_t q = e % g.cols(), c = (e / g.cols()) % g.channels, b = e / (g.cols() * g.channels);
    int64_t argmax;
    out[e] = window_max(g, x + b * g.image_size(), c, q, argmax);
    indices[e] = argmax;
  }
}

}  // namespace

void im2col(const Tensor& x, const WindowGeometry& g, const Tensor& cols) {
  const int64_t total = cols.numel();
  if (total == 0) return;
  const int device = cols.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "im2col", [&](auto tag) {
    using T = decltype(tag);
    im2col_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(static_cast<const T*>(x.raw_data()), g, x.size(0), total,
                                                                      static_cast<T*>(cols.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void col2im(const Tensor& cols, const WindowGeometry& g, const Tensor& x) {
  const int64_t total = x.numel();
  if (total == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "col2im", [&](auto tag) {
    using T = decltype(tag);
    col2im_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(static_cast<const T*>(cols.raw_data()), g, x.size(0), total,
                                                                      static_cast<T*>(x.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

void max_pool2d(const Tensor& x, const WindowGeometry& g, const Tensor& out, const Tensor& indices) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    max_pool_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(
        static_cast<const T*>(x.raw_data()), g, total, static_cast<T*>(out.raw_data()),
        static_cast<int64_t*>(indices.raw_data()));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
