// im2col, col2im, max pooling and its backward on the GPU: one thread per output element, each
// calling a per-element function of core/conv_math.h that the CPU tests check. col2im and the
// pooling backward gather (no atomics), so they are deterministic. Launch: grid-stride over the outputs. Floor: one write per output and
// one read per input element touched (reads of overlapping windows mostly hit L2).
#include <cstdint>

#include "core/dispatch.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/conv.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

// Each kernel splits its element index with Divider: FastDivider where window_fits_fast_divide,
// else WideDivider (with_dividers below).
template <class T, class Divider>
__global__ void im2col_kernel(const T* x, WindowGeometry g, WindowDividers<Divider> d, Divider cols, Divider batch,
                              int64_t total, T* out) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = (r * batch + b) * cols + q
    const QuotRem q = cols.split(e), rb = batch.split(q.quot);
    const int64_t at = im2col_source(g, d, rb.quot, q.rem);
    out[e] = at < 0 ? T(0) : x[rb.rem * g.image_size() + at];
  }
}

template <class T, class Divider>
__global__ void col2im_kernel(const T* cols, WindowGeometry g, WindowDividers<Divider> d, Divider image,
                              int64_t batch, int64_t total, T* x) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = b * image_size + pixel
    const QuotRem bp = image.split(e);
    x[e] = col2im_gather(g, d, cols + bp.quot * g.cols(), batch * g.cols(), bp.rem);
  }
}

template <class T, class Divider>
__global__ void max_pool_kernel(const T* x, WindowGeometry g, WindowDividers<Divider> d, Divider cols,
                                Divider channels, int64_t total, T* out, int64_t* indices) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = (b * C + c) * cols + q
    const QuotRem q = cols.split(e), bc = channels.split(q.quot);
    int64_t argmax;
    out[e] = window_max(g, d, x + bc.quot * g.image_size(), bc.rem, q.rem, argmax);
    indices[e] = argmax;
  }
}

template <class T, class Divider>
__global__ void max_pool_backward_kernel(const T* grad, const int64_t* indices, WindowGeometry g,
                                         WindowDividers<Divider> d, Divider image, int64_t total, T* grad_x) {
  FACET_GRID_STRIDE_LOOP(e, total) {  // e = b * image_size + pixel
    const QuotRem bp = image.split(e);
    const int64_t outputs = bp.quot * g.channels * g.cols();  // image b's first output
    grad_x[e] = max_pool_gather(g, d, grad + outputs, indices + outputs, bp.rem);
  }
}

// Calls launch(dividers, divider_of) with FastDividers where every index of `batch` images fits,
// else WideDividers; divider_of(n) makes the kernel's own dividers of the same kind.
template <class Launch>
void with_dividers(const WindowGeometry& g, int64_t batch, Launch&& launch) {
  if (window_fits_fast_divide(g, batch))
    launch(fast_dividers(g), [](int64_t n) { return FastDivider(n); });
  else
    launch(wide_dividers(g), [](int64_t n) { return WideDivider{n}; });
}

}  // namespace

void im2col(const Tensor& x, const WindowGeometry& g, const Tensor& cols) {
  const int64_t total = cols.numel();
  if (total == 0) return;
  const int device = cols.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "im2col", [&](auto tag) {
    using T = decltype(tag);
    const int64_t batch = x.size(0);
    with_dividers(g, batch, [&](auto d, auto divider_of) {
      im2col_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(
          static_cast<const T*>(x.raw_data()), g, d, divider_of(g.cols()), divider_of(batch), total,
          static_cast<T*>(cols.raw_data()));
      FACET_CUDA_CHECK_LAUNCH();
    });
  });
}

void col2im(const Tensor& cols, const WindowGeometry& g, const Tensor& x) {
  const int64_t total = x.numel();
  if (total == 0) return;
  const int device = x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "col2im", [&](auto tag) {
    using T = decltype(tag);
    const int64_t batch = x.size(0);
    with_dividers(g, batch, [&](auto d, auto divider_of) {
      col2im_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(
          static_cast<const T*>(cols.raw_data()), g, d, divider_of(g.image_size()), batch, total,
          static_cast<T*>(x.raw_data()));
      FACET_CUDA_CHECK_LAUNCH();
    });
  });
}

void max_pool2d(const Tensor& x, const WindowGeometry& g, const Tensor& out, const Tensor& indices) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    with_dividers(g, x.size(0), [&](auto d, auto divider_of) {
      max_pool_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(
          static_cast<const T*>(x.raw_data()), g, d, divider_of(g.cols()), divider_of(g.channels), total,
          static_cast<T*>(out.raw_data()), static_cast<int64_t*>(indices.raw_data()));
      FACET_CUDA_CHECK_LAUNCH();
    });
  });
}

// A gather, not a scatter: each input element sums the gradients of the windows over it whose
// maximum it was, in a fixed order. No zero fill, no atomics, and deterministic even where
// windows overlap. Floor: one write of the input gradient, and the reads of grad and indices.
void max_pool2d_backward(const Tensor& grad, const Tensor& indices, const WindowGeometry& g, const Tensor& grad_x) {
  const int64_t total = grad_x.numel();
  if (total == 0) return;
  const int device = grad_x.device().index;
  DeviceGuard guard(device);
  dispatch_floating(grad.dtype(), "max_pool2d backward", [&](auto tag) {
    using T = decltype(tag);
    with_dividers(g, grad_x.size(0), [&](auto d, auto divider_of) {
      max_pool_backward_kernel<T><<<grid_for(total), kBlock, 0, stream(device)>>>(
          static_cast<const T*>(grad.raw_data()), static_cast<const int64_t*>(indices.raw_data()), g, d,
          divider_of(g.image_size()), total, static_cast<T*>(grad_x.raw_data()));
      FACET_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace facet::cuda
