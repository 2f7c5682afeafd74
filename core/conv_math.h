#pragma once
// Per-element index math of convolution and pooling windows, shared by both backends.
//
// im2col turns a batch [N, C, H, W] into columns [C * KH * KW, N, OH * OW]: row r = (c, ki, kj),
// image n, column q = (oh, ow) holds x[n, c, oh * SH - PH + ki * DH, ow * SW - PW + kj * DW], or 0
// where that falls in the padding. A convolution of the whole batch is then one GEMM,
// weight [O, C * KH * KW] @ columns [C * KH * KW, N * OH * OW].
#include <stdint.h>

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

FACET_HD inline WindowOrigin window_origin(const WindowGeometry& g, int64_t col) {
  return {(col / g.out_w) * g.stride_h - g.pad_h, (col % g.out_w) * g.stride_w - g.pad_w};
}

FACET_HD inline WindowTap window_tap(const WindowGeometry& g, int64_t row) {
  return {row / (g.kernel_w * g.kernel_h), ((row / g.kernel_w) % g.kernel_h) * g.dilation_h,
          (row % g.kernel_w) * g.dilation_w};
}

// The offset inside one image that tap t of the window at o reads, or -1 in the padding.
FACET_HD inline int64_t tap_source(const WindowGeometry& g, WindowOrigin o, WindowTap t) {
  const int64_t ih = o.ih + t.dh, iw = o.iw + t.dw;
  if (ih < 0 || ih >= g.height || iw < 0 || iw >= g.width) return -1;
  return (t.c * g.height + ih) * g.width + iw;
}

// The offset inside one image of column element (row, col), or -1 in the padding.
FACET_HD inline int64_t im2col_source(const WindowGeometry& g, int64_t row, int64_t col) {
  return tap_source(g, window_origin(g, col), window_tap(g, row));
}

// col2im, gathered: the sum of every column element that im2col copied from image offset `pixel`
// (c, ih, iw). `cols` points at the image's first column of row 0; rows are `row_stride` apart
// (N * OH * OW in the batched layout). Walking the window positions that reach this pixel
// (instead of scattering from the columns) keeps the sum's order fixed, so both backends are
// deterministic without atomics.
template <class T>
FACET_HD inline T col2im_gather(const WindowGeometry& g, const T* cols, int64_t row_stride, int64_t pixel) {
  const int64_t iw = pixel % g.width, ih = (pixel / g.width) % g.height, c = pixel / (g.width * g.height);
  T sum = T(0);
  for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
    const int64_t h = ih + g.pad_h - ki * g.dilation_h;  // = oh * stride_h
    if (h < 0 || h % g.stride_h != 0 || h / g.stride_h >= g.out_h) continue;
    for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
      const int64_t w = iw + g.pad_w - kj * g.dilation_w;
      if (w < 0 || w % g.stride_w != 0 || w / g.stride_w >= g.out_w) continue;
      const int64_t row = (c * g.kernel_h + ki) * g.kernel_w + kj, col = (h / g.stride_h) * g.out_w + w / g.stride_w;
      sum += cols[row * row_stride + col];
    }
  }
  return sum;
}

// Max over the window of output (c, oh, ow) of one image; `argmax` gets the winning offset inside
// the image (the first maximum; NaN wins, as in PyTorch). Padding never wins: it is skipped.
template <class T>
FACET_HD inline T window_max(const WindowGeometry& g, const T* image, int64_t c, int64_t col, int64_t& argmax) {
  T best = T(0);
  argmax = -1;
  for (int64_t k = 0; k < g.kernel_h * g.kernel_w; ++k) {
    const int64_t at = im2col_source(g, c * g.kernel_h * g.kernel_w + k, col);
    if (at < 0) continue;
    const T v = image[at];
    if (argmax < 0 || v > best || (v != v && best == best)) {
      best = v;
      argmax = at;
    }
  }
  return best;
}

}  // namespace facet
