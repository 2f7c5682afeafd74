// The column (im2col + GEMM) convolution that the GPU runs under Im2colGemm, and for the
// backward under ImplicitGemm: a chunk of images at a time, so that the column matrix
// [C*KH*KW, images*OH*OW] of one chunk stays near kColumnBudgetBytes. Over a whole batch it was
// C*KH*KW times the input: 231 MB at the cnn's 32 -> 64 layer at batch 256, the largest block of
// a step's peak. Made of ops (im2col, matmul, col2im, copy_), it runs on either device, so the
// CPU tests check the chunking against the CPU's own convolution.
#include "core/ops_conv_columns.h"

#include <algorithm>

#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

constexpr int64_t kColumnBudgetBytes = int64_t{64} << 20;

// [n, o, oh, ow] gradient images n0 .. n0 + count as the [O, count*OH*OW] matrix the GEMMs want.
Tensor grad_matrix(const Tensor& grad, int64_t n0, int64_t count) {
  const Tensor g = narrow(grad, 0, n0, count);
  return reshape(transpose(g, 0, 1), {g.size(1), count * g.size(2) * g.size(3)});
}

}  // namespace

int64_t conv_column_chunk(const WindowGeometry& g, int64_t batch, DType dtype, int64_t images_per_chunk) {
  if (images_per_chunk <= 0) {
    const int64_t image_bytes = std::max<int64_t>(1, g.rows() * g.cols() * static_cast<int64_t>(dtype_size(dtype)));
    images_per_chunk = std::max<int64_t>(1, kColumnBudgetBytes / image_bytes);
  }
  return std::max<int64_t>(1, std::min(images_per_chunk, batch));
}

Tensor conv2d_by_columns(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                         const Window& w, int64_t images_per_chunk) {
  const int64_t n = x.size(0), o = weight.size(0);
  const int64_t chunk = conv_column_chunk(g, n, x.dtype(), images_per_chunk);
  const Tensor weights = reshape(weight, {o, g.rows()});
  const Tensor bias4 = bias.defined() ? reshape(bias, {1, o, 1, 1}) : bias;
  // One chunk's output [count, O, OH, OW] as a view of the GEMM's [O, count*OH*OW], plus the bias.
  const auto chunk_output = [&](int64_t n0, int64_t count) {
    const Tensor cols = im2col(narrow(x, 0, n0, count), w);
    const Tensor y = matmul(weights, reshape(cols, {g.rows(), count * g.cols()}));
    const Tensor nchw = transpose(reshape(y, {o, count, g.out_h, g.out_w}), 0, 1);
    return bias.defined() ? binary(BinaryOp::Add, nchw, bias4) : nchw;
  };
  if (chunk >= n) return contiguous(chunk_output(0, n));  // NCHW and contiguous, as PyTorch returns it
  Tensor out = output("conv2d", {n, o, g.out_h, g.out_w}, x.dtype(), x.device());
  for (int64_t n0 = 0; n0 < n; n0 += chunk) {
    const int64_t count = std::min(chunk, n - n0);
    copy_(narrow(out, 0, n0, count), chunk_output(n0, count));
  }
  return out;
}

std::array<Tensor, 2> conv2d_backward_by_columns(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                                 const WindowGeometry& g, const Window& w, std::array<bool, 2> needs,
                                                 int64_t images_per_chunk) {
  const int64_t n = x.size(0), o = weight.size(0);
  const int64_t chunk = conv_column_chunk(g, n, x.dtype(), images_per_chunk);
  const Tensor weights_t = transpose(reshape(weight, {o, g.rows()}), 0, 1);
  std::array<Tensor, 2> out;
  if (needs[0] && chunk < n) out[0] = output("conv2d backward", x.shape(), x.dtype(), x.device());
  const int64_t chunks = std::max<int64_t>(1, (n + chunk - 1) / chunk);  // one, of no images, for an empty batch
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t n0 = i * chunk, count = std::min(chunk, n - n0);
    const Tensor gm = grad_matrix(grad, n0, count);
    if (needs[0]) {  // d columns = W^T @ dY, then col2im
      const Tensor cols_grad = matmul(weights_t, gm);
      const Tensor images = col2im(reshape(cols_grad, {g.rows(), count, g.cols()}),
                                   {count, g.channels, g.height, g.width}, w);
      if (chunk >= n) out[0] = images;
      else copy_(narrow(out[0], 0, n0, count), images);
    }
    if (needs[1]) {  // dW = dY @ columns^T, summed over the chunks
      const Tensor cols = reshape(im2col(narrow(x, 0, n0, count), w), {g.rows(), count * g.cols()});
      const Tensor part = matmul(gm, transpose(cols, 0, 1));
      out[1] = out[1].defined() ? binary(BinaryOp::Add, out[1], part) : part;
    }
  }
  if (needs[1]) out[1] = reshape(out[1], weight.shape());
  return out;
}

}  // namespace facet::ops
