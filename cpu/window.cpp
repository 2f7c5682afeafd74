// im2col, col2im and max pooling on the CPU: loops over the per-element functions of
// core/conv_math.h, parallel over images and rows. Floor: im2col writes C*KH*KW*OH*OW elements
// per image (the GEMM that follows dominates a convolution's time).
#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

void im2col(const Tensor& x, const WindowGeometry& g, const Tensor& cols) {
  const int64_t n = x.size(0), rows = g.rows(), ncols = g.cols();
  dispatch_floating(x.dtype(), "im2col", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* pc = cols.data<T>();
    // im2col_source in row form: the window offset (c, ki, kj) is fixed per row and ih per output
    // line, so the inner loop over ow is a strided copy without divisions.
#pragma omp parallel for collapse(2) schedule(static) if (n * rows * ncols >= kParallelGrain)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < n; ++b) {
        const int64_t kj = r % g.kernel_w, ki = (r / g.kernel_w) % g.kernel_h, c = r / (g.kernel_w * g.kernel_h);
        const T* plane = px + b * g.image_size() + c * g.height * g.width;
        T* out = pc + (r * n + b) * ncols;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
          T* line = out + oh * g.out_w;
          if (ih < 0 || ih >= g.height) {
            for (int64_t ow = 0; ow < g.out_w; ++ow) line[ow] = T(0);
            continue;
          }
          const T* src = plane + ih * g.width;
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            const int64_t iw = ow * g.stride_w - g.pad_w + kj * g.dilation_w;
            line[ow] = iw < 0 || iw >= g.width ? T(0) : src[iw];
          }
        }
      }
  });
}

void col2im(const Tensor& cols, const WindowGeometry& g, const Tensor& x) {
  const int64_t n = x.size(0), pixels = g.image_size();
  dispatch_floating(x.dtype(), "col2im", [&](auto tag) {
    using T = decltype(tag);
    const T* pc = cols.data<T>();
    T* px = x.data<T>();
#pragma omp parallel for collapse(2) schedule(static) if (n * pixels >= kParallelGrain)
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < pixels; ++p) px[b * pixels + p] = col2im_gather(g, pc + b * g.cols(), n * g.cols(), p);
  });
}

void max_pool2d(const Tensor& x, const WindowGeometry& g, const Tensor& out, const Tensor& indices) {
  const int64_t n = x.size(0), ncols = g.cols();
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pi = indices.data<int64_t>();
#pragma omp parallel for collapse(2) schedule(static) if (n * g.channels * ncols >= kParallelGrain)
    for (int64_t b = 0; b < n; ++b)
      for (int64_t c = 0; c < g.channels; ++c)
        for (int64_t q = 0; q < ncols; ++q) {
          const int64_t at = (b * g.channels + c) * ncols + q;
          po[at] = window_max(g, px + b * g.image_size(), c, q, pi[at]);
        }
  });
}

}  // namespace facet::cpu
