#pragma once
// The GPU's column convolution (im2col + GEMM, core/ops_conv_columns.cpp), a chunk of images at a
// time. Behind ops::conv2d's front door: the inputs are already checked. Not in facet.h; the tests
// call it on the CPU to compare it with the CPU's convolution.
#include <array>
#include <cstdint>

#include "core/ops.h"

namespace facet::ops {

// Images per chunk: images_per_chunk if positive, else as many as keep one chunk's columns
// [C*KH*KW, images*OH*OW] under 64 MiB; at least 1 and at most the batch.
int64_t conv_column_chunk(const WindowGeometry& g, int64_t batch, DType dtype, int64_t images_per_chunk = 0);

// conv2d's output [N, O, OH, OW], contiguous.
Tensor conv2d_by_columns(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                         const Window& w, int64_t images_per_chunk = 0);

// The input's and the weight's gradients, each where `needs` says.
std::array<Tensor, 2> conv2d_backward_by_columns(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                                 const WindowGeometry& g, const Window& w, std::array<bool, 2> needs,
                                                 int64_t images_per_chunk = 0);

}  // namespace facet::ops
