// im2col, col2im and max pooling on the CPU: loops over the per-element functions of
// core/conv_math.h, parallel over images and rows. Floor: im2col writes C*KH*KW*OH*OW elements
// per image (the GEMM that follows dominates a convolution's time); max pooling reads the input
// once and writes the output and its indices (12 bytes an output for float32).
#include "core/dispatch.h"
#include <algorithm>

#include "cpu/conv.h"
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

// Max pooling walks each output's window with the row form of im2col_source (no divisions per
// element, as window_max has): the per-element window_max took 25 times the memory floor. The
// common 2x2 stride-2 unpadded window has its own loop over pairs of input rows. The order of
// the taps, the first maximum winning and NaN winning are window_max's.
template <class T>
void max_pool_plane(const T* plane, const WindowGeometry& g, int64_t plane_offset, T* out, int64_t* idx) {
  const bool two_by_two = g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 &&
                          g.pad_w == 0 && g.dilation_h == 1 && g.dilation_w == 1;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    T* orow = out + oh * g.out_w;
    int64_t* irow = idx + oh * g.out_w;
    if (two_by_two) {
      const T* r0 = plane + 2 * oh * g.width;
      const T* r1 = r0 + g.width;
      // The winner's tap (0..3 in window_max's order) as a small int and selects, not branches:
      // which of four random values wins is a coin toss for a predictor, and int64 offsets in the
      // loop keep it scalar.
      int32_t tap[64];
      for (int64_t ow0 = 0; ow0 < g.out_w; ow0 += 64) {
        const int64_t len = std::min<int64_t>(64, g.out_w - ow0);
        for (int64_t j = 0; j < len; ++j) {
          const int64_t ow = ow0 + j;
          const T v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
          T best = v0;
          int32_t k = 0;
          bool take = v1 > best || (v1 != v1 && best == best);
          best = take ? v1 : best;
          k = take ? 1 : k;
          take = v2 > best || (v2 != v2 && best == best);
          best = take ? v2 : best;
          k = take ? 2 : k;
          take = v3 > best || (v3 != v3 && best == best);
          best = take ? v3 : best;
          k = take ? 3 : k;
          orow[ow] = best;
          tap[j] = k;
        }
        const int64_t at = plane_offset + 2 * oh * g.width + 2 * ow0;
        for (int64_t j = 0; j < len; ++j) irow[ow0 + j] = at + 2 * j + (tap[j] & 1) + (tap[j] >> 1) * g.width;
      }
      continue;
    }
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      T best = T(0);
      int64_t arg = -1;
      for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
        if (ih < 0 || ih >= g.height) continue;
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
          const int64_t iw = ow * g.stride_w - g.pad_w + kj * g.dilation_w;
          if (iw < 0 || iw >= g.width) continue;
          const T v = plane[ih * g.width + iw];
          if (arg < 0 || v > best || (v != v && best == best)) {
            best = v;
            arg = ih * g.width + iw;
          }
        }
      }
      orow[ow] = best;
      irow[ow] = plane_offset + arg;
    }
  }
}

void max_pool2d(const Tensor& x, const WindowGeometry& g, const Tensor& out, const Tensor& indices) {
  const int64_t n = x.size(0), ncols = g.cols(), planes = n * g.channels, hw = g.height * g.width;
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pi = indices.data<int64_t>();
#pragma omp parallel for schedule(static) if (planes > 1 && planes * hw >= kParallelGrain)
    for (int64_t pl = 0; pl < planes; ++pl)
      max_pool_plane(px + pl * hw, g, (pl % g.channels) * hw, po + pl * ncols, pi + pl * ncols);
  });
}

int64_t max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Tensor& grad_x) {
  const int64_t planes = grad_x.size(0) * grad_x.size(1), hw = grad_x.size(2) * grad_x.size(3);
  const int64_t outputs = grad.size(2) * grad.size(3);
  int64_t first_bad = planes * outputs;  // past the end: none
  dispatch_floating(grad.dtype(), "max_pool2d backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = grad.data<T>();
    const int64_t* pi = indices.data<int64_t>();
    T* px = grad_x.data<T>();
    // A plane's outputs only ever point into the same plane, so planes run in parallel and each
    // one adds its gradients in output order: deterministic without atomics. The plane check
    // rides on the scatter's own read of each index.
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (planes > 1 && planes * hw >= kParallelGrain)
    for (int64_t pl = 0; pl < planes; ++pl) {
      T* dst = px + pl * hw;
      std::fill(dst, dst + hw, T(0));
      const int64_t first = (pl % grad_x.size(1)) * hw;  // indices are offsets in the image
      const T* g = pg + pl * outputs;
      const int64_t* idx = pi + pl * outputs;
      for (int64_t q = 0; q < outputs; ++q) {
        const int64_t at = idx[q] - first;
        if (at >= 0 && at < hw) dst[at] += g[q];
        else first_bad = std::min(first_bad, pl * outputs + q);
      }
    }
  });
  return first_bad < planes * outputs ? first_bad : -1;
}

}  // namespace facet::cpu
