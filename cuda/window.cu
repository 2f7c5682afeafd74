// im2col, col2im, max pooling and its backward on the GPU: one thread per output element, each
// calling a per-element function of core/conv_math.h that the CPU tests check. col2im and the
// pooling backward gather (no atomics), so they are deterministic. Launch: grid-stride over the
// outputs. Floor: one write per output and one read per input element touched (reads of
// overlapping windows mostly hit L2).
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
// else WideDivider (launch_window_kernel below).
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

// Runs launch(tag, dividers, divider_of, total, stream) for a kernel with one thread per element
// of `out` (none when it is empty), on its device, for the dtype's T = decltype(tag): with
// FastDividers where every index of `batch` images fits, else WideDividers; divider_of(n) makes
// the kernel's own dividers of the same kind.
template <class Launch>
void launch_window_kernel(const char* name, DType dtype, const Tensor& out, const WindowGeometry& g, int64_t batch,
                          Launch&& launch) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  dispatch_floating(dtype, name, [&](auto tag) {
    if (window_fits_fast_divide(g, batch))
      launch(tag, fast_dividers(g), [](int64_t n) { return FastDivider(n); }, total, stream(device));
    else
      launch(tag, wide_dividers(g), [](int64_t n) { return WideDivider{n}; }, total, stream(device));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

template <class T>
const T* in(const Tensor& t) { return static_cast<const T*>(t.raw_data()); }
template <class T>
T* out_ptr(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

}  // namespace

void im2col(const Tensor& x, const WindowGeometry& g, const Tensor& cols) {
  const int64_t batch = x.size(0);
  launch_window_kernel("im2col", x.dtype(), cols, g, batch, [&](auto tag, auto d, auto divider_of, int64_t total,
                                                                 cudaStream_t s) {
    using T = decltype(tag);
    im2col_kernel<T><<<grid_for(total), kBlock, 0, s>>>(in<T>(x), g, d, divider_of(g.cols()), divider_of(batch), total,
                                                        out_ptr<T>(cols));
  });
}

void col2im(const Tensor& cols, const WindowGeometry& g, const Tensor& x) {
  const int64_t batch = x.size(0);
  launch_window_kernel("col2im", x.dtype(), x, g, batch, [&](auto tag, auto d, auto divider_of, int64_t total,
                                                              cudaStream_t s) {
    using T = decltype(tag);
    col2im_kernel<T><<<grid_for(total), kBlock, 0, s>>>(in<T>(cols), g, d, divider_of(g.image_size()), batch, total,
                                                        out_ptr<T>(x));
  });
}

void max_pool2d(const Tensor& x, const WindowGeometry& g, const Tensor& out, const Tensor& indices) {
  launch_window_kernel("max_pool2d", x.dtype(), out, g, x.size(0), [&](auto tag, auto d, auto divider_of,
                                                                        int64_t total, cudaStream_t s) {
    using T = decltype(tag);
    max_pool_kernel<T><<<grid_for(total), kBlock, 0, s>>>(in<T>(x), g, d, divider_of(g.cols()),
                                                          divider_of(g.channels), total, out_ptr<T>(out),
                                                          out_ptr<int64_t>(indices));
  });
}

// A gather, not a scatter: each input element sums the gradients of the windows over it whose
// maximum it was, in a fixed order. No zero fill, no atomics, and deterministic even where
// windows overlap. Floor: one write of the input gradient, and the reads of grad and indices.
void max_pool2d_backward(const Tensor& grad, const Tensor& indices, const WindowGeometry& g, const Tensor& grad_x) {
  launch_window_kernel("max_pool2d backward", grad.dtype(), grad_x, g, grad_x.size(0),
                       [&](auto tag, auto d, auto divider_of, int64_t total, cudaStream_t s) {
                         using T = decltype(tag);
                         max_pool_backward_kernel<T><<<grid_for(total), kBlock, 0, s>>>(
                             in<T>(grad), in<int64_t>(indices), g, d, divider_of(g.image_size()), total,
                             out_ptr<T>(grad_x));
                       });
}

}  // namespace facet::cuda
