#pragma once
// Per-element index math of convolution and pooling windows, shared by both backends.
//
// im2col turns a batch [N, C, H, W] into columns [C * KH * KW, N, OH * OW]: row r = (c, ki, kj),
// image n, column q = (oh, ow) holds x[n, c, oh * SH - PH + ki * DH, ow * SW - PW + kj * DW], or 0
// where that falls in the padding. A convolution of the whole batch is then one GEMM,
// weight [O, C * KH * KW] @ columns [C * KH * KW, N * OH * OW].
#include <stdint.h>

#include "core/fast_divide.h"
#include "core/hd.h"

namespace facet {

struct WindowGeometry {
  int64_t channels, height, width;       // input image
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dilation_h, dilation_w;
  int64_t out_h, out_w;                  // (H + 2P - D * (K - 1) - 1) / S + 1

  FACET_HD int64_t rows() const { return channels * kernel_h * kernel_w; }
  FACET_HD int64_t cols() const { return out_h * out_w; }
  FACET_HD int64_t image_size() const { return channels * height * width; }
};

// The sizes the index math below divides by. The functions taking a WindowDividers<Divider> split
// indices with Divider (core/fast_divide.h): WideDivider is '/' and '%', FastDivider the GPU's
// 32-bit multiply-and-shift (an element of im2col or col2im split its indices with 12 to 16
// emulated 64-bit divisions before). The overloads without one use WideDivider.
template <class Divider>
struct WindowDividers {
  Divider out_w, kernel_w, kernel_h, width, height, stride_h, stride_w;
};

FACET_HD inline WindowDividers<WideDivider> wide_dividers(const WindowGeometry& g) {
  return {{g.out_w}, {g.kernel_w}, {g.kernel_h}, {g.width}, {g.height}, {g.stride_h}, {g.stride_w}};
}

// Whether every index that im2col, col2im and max pooling of `batch` images split stays below
// 2^31 and every divisor is at least 1: FastDivider's range.
inline bool window_fits_fast_divide(const WindowGeometry& g, int64_t batch) {
  const int64_t sizes[] = {g.out_w, g.kernel_w, g.kernel_h, g.width, g.height, g.stride_h, g.stride_w, g.channels,
                           g.cols(), batch};
  for (int64_t s : sizes)
    if (s < 1 || !fits_fast_divide(s)) return false;
  const int64_t largest = g.image_size() > g.rows() * g.cols() ? g.image_size() : g.rows() * g.cols();
  return fits_fast_divide(batch * largest) && fits_fast_divide(g.height + g.pad_h) &&
         fits_fast_divide(g.width + g.pad_w);
}

inline WindowDividers<FastDivider> fast_dividers(const WindowGeometry& g) {
  return {FastDivider(g.out_w),  FastDivider(g.kernel_w), FastDivider(g.kernel_h), FastDivider(g.width),
          FastDivider(g.height), FastDivider(g.stride_h), FastDivider(g.stride_w)};
}

// im2col_source in two halves, so that a GEMM kernel walking a tile decomposes each column once
// and each row once instead of every element: the window's top-left corner for output column
// `col` (image coordinates, negative in the padding) and the tap of row `row` (its channel and
// dilated offset inside the window).
struct WindowOrigin {
  int64_t ih, iw;
};
struct WindowTap {
  int64_t c, dh, dw;
};

template <class Divider>
FACET_HD WindowOrigin window_origin(const WindowGeometry& g, const WindowDividers<Divider>& d, int64_t col) {
  const QuotRem hw = d.out_w.split(col);  // (oh, ow)
  return {hw.quot * g.stride_h - g.pad_h, hw.rem * g.stride_w - g.pad_w};
}
FACET_HD inline WindowOrigin window_origin(const WindowGeometry& g, int64_t col) {
  return window_origin(g, wide_dividers(g), col);
}

template <class Divider>
FACET_HD WindowTap window_tap(const WindowGeometry& g, const WindowDividers<Divider>& d, int64_t row) {
  const QuotRem j = d.kernel_w.split(row), i = d.kernel_h.split(j.quot);  // row = (c, ki, kj)
  return {i.quot, i.rem * g.dilation_h, j.rem * g.dilation_w};
}
FACET_HD inline WindowTap window_tap(const WindowGeometry& g, int64_t row) {
  return window_tap(g, wide_dividers(g), row);
}

// The offset inside one image that tap t of the window at o reads, or -1 in the padding.
FACET_HD inline int64_t tap_source(const WindowGeometry& g, WindowOrigin o, WindowTap t) {
  const int64_t ih = o.ih + t.dh, iw = o.iw + t.dw;
  if (ih < 0 || ih >= g.height || iw < 0 || iw >= g.width) return -1;
  return (t.c * g.height + ih) * g.width + iw;
}

// The offset inside one image of column element (row, col), or -1 in the padding.
template <class Divider>
FACET_HD int64_t im2col_source(const WindowGeometry& g, const WindowDividers<Divider>& d, int64_t row, int64_t col) {
  return tap_source(g, window_origin(g, d, col), window_tap(g, d, row));
}
FACET_HD inline int64_t im2col_source(const WindowGeometry& g, int64_t row, int64_t col) {
  return im2col_source(g, wide_dividers(g), row, col);
}

// Calls visit(c, row, col) for every column element that im2col copies from image offset `pixel`
// (c, ih, iw): each window position col = oh * OW + ow that covers the pixel, with the tap row =
// (c, ki, kj) it covers it by; col ascending (ki, then kj, descending), the order in which a
// scatter over the outputs would add them. Walking the windows that reach a pixel (instead of
// scattering from the windows) lets a backward write every input element once, in a fixed order:
// deterministic without atomics.
template <class Divider, class Visit>
FACET_HD void for_each_window_reading(const WindowGeometry& g, const WindowDividers<Divider>& d, int64_t pixel,
                                      Visit&& visit) {
  const QuotRem w_split = d.width.split(pixel), h_split = d.height.split(w_split.quot);
  const int64_t iw = w_split.rem, ih = h_split.rem, c = h_split.quot;
  for (int64_t ki = g.kernel_h - 1; ki >= 0; --ki) {
    const int64_t h = ih + g.pad_h - ki * g.dilation_h;  // = oh * stride_h
    if (h < 0) continue;
    const QuotRem oh = d.stride_h.split(h);
    if (oh.rem != 0 || oh.quot >= g.out_h) continue;
    for (int64_t kj = g.kernel_w - 1; kj >= 0; --kj) {
      const int64_t w = iw + g.pad_w - kj * g.dilation_w;
      if (w < 0) continue;
      const QuotRem ow = d.stride_w.split(w);
      if (ow.rem != 0 || ow.quot >= g.out_w) continue;
      visit(c, (c * g.kernel_h + ki) * g.kernel_w + kj, oh.quot * g.out_w + ow.quot);
    }
  }
}

// col2im, gathered: the sum of every column element that im2col copied from image offset `pixel`.
// `cols` points at the image's first column of row 0; rows are `row_stride` apart (N * OH * OW in
// the batched layout).
template <class T, class Divider>
FACET_HD T col2im_gather(const WindowGeometry& g, const WindowDividers<Divider>& d, const T* cols, int64_t row_stride,
                         int64_t pixel) {
  T sum = T(0);
  for_each_window_reading(g, d, pixel, [&](int64_t, int64_t row, int64_t col) { sum += cols[row * row_stride + col]; });
  return sum;
}
template <class T>
FACET_HD T col2im_gather(const WindowGeometry& g, const T* cols, int64_t row_stride, int64_t pixel) {
  return col2im_gather(g, wide_dividers(g), cols, row_stride, pixel);
}

// Max pooling's backward, gathered: the sum of the output gradients of the windows over image
// offset `pixel` whose maximum was that pixel. `grad` and `indices` point at one image's
// [C, OH, OW] outputs; indices are max_pool2d's (offsets in the image), from this window.
template <class T, class Divider>
FACET_HD T max_pool_gather(const WindowGeometry& g, const WindowDividers<Divider>& d, const T* grad,
                           const int64_t* indices, int64_t pixel) {
  T sum = T(0);
  for_each_window_reading(g, d, pixel, [&](int64_t c, int64_t, int64_t col) {
    const int64_t at = c * g.cols() + col;
    if (indices[at] == pixel) sum += grad[at];
  });
  return sum;
}

// Max over the window of output (c, oh, ow) of one image; `argmax` gets the winning offset inside
// the image (the first maximum; NaN wins, as in PyTorch). Padding never wins: it is skipped.
template <class T, class Divider>
FACET_HD T window_max(const WindowGeometry& g, const WindowDividers<Divider>& d, const T* image, int64_t c, int64_t col,
                      int64_t& argmax) {
  T best = T(0);
  argmax = -1;
  const WindowOrigin origin = window_origin(g, d, col);
  for (int64_t ki = 0; ki < g.kernel_h; ++ki)  // the taps in window_tap's row order
    for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
      const int64_t at = tap_source(g, origin, WindowTap{c, ki * g.dilation_h, kj * g.dilation_w});
      if (at < 0) continue;
      const T v = image[at];
      if (argmax < 0 || v > best || (v != v && best == best)) {
        best = v;
        argmax = at;
      }
    }
  return best;
}
template <class T>
FACET_HD T window_max(const WindowGeometry& g, const T* image, int64_t c, int64_t col, int64_t& argmax) {
  return window_max(g, wide_dividers(g), image, c, col, argmax);
}

}  // namespace facet
