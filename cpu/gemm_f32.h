#pragma once
// A small float32 GEMM, serial: its callers thread over images (cpu/conv.cpp) or over blocks of C
// (cpu/matmul.cpp). Why not OpenBLAS here: Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not
// know this VM's Xeon (family 6 model 207) and falls back to its Prescott SSE3 kernels, about 6
// GFLOP/s a core, against 25–35 GFLOP/s for its SkylakeX kernels on the same core; oneDNN, which
// PyTorch uses, picks AVX-512 from the CPU's feature bits. This GEMM does the same: an AVX-512
// kernel when the CPU has AVX-512F (checked once at run time), otherwise cblas_sgemm. Besides the
// plain product: the NT form of a convolution's weight gradient, and products whose B is a
// convolution's columns read straight from the image (ShiftedColumns).
#include <cstdint>
#include <vector>

namespace facet::cpu {

// A matrix as the packers read it: element (i, j) at p[i * rs + j * cs]; one of rs, cs is 1.
struct MatrixView {
  const float* p;
  int64_t rs, cs;
};

// True when this CPU runs the AVX-512 kernel (otherwise sgemm calls cblas_sgemm); the environment
// variable FACET_NO_AVX512 forces the cblas_sgemm path.
bool sgemm_has_avx512();

// Turns the AVX-512 kernels off (false) or back on where the CPU has them (true), so the tests run
// both paths in one process.
void set_sgemm_avx512(bool enabled);

// C[m, n] (rows ldc apart) = (accumulate ? C : 0) + A[m, k] B[k, n]. Serial and deterministic:
// each C element is a dot product over k in increasing order.
void sgemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate);

// A sum of such products with B given by rows: C[m, n] = (accumulate ? C : 0) + sum over the
// `count` pairs of A_b[m, k] B_b[n, k]^T, A_b = a + b * a_step and B_b = b + b * b_step (rows lda
// and ldb apart): dot products along contiguous rows, without packing (a convolution's weight
// gradient over a group of images). The lanes of each dot product run over every pair before they
// are summed, so the horizontal sums are paid once per group, not once per image.
void sgemm_nt(int64_t m, int64_t n, int64_t k, int64_t count, const float* a, int64_t lda, int64_t a_step,
              const float* b, int64_t ldb, int64_t b_step, float* c, int64_t ldc, bool accumulate);

// The column matrix of a convolution whose taps each read a whole plane shifted by a whole number
// of elements, as the B of a product without being stored. Row r = (channel r / taps, tap r %
// taps) holds, for output pixel p = line * width + column, image[(r / taps) * channel_stride +
// tap_offset[tap] + p] when that pixel's read falls inside its plane, else 0; which pixels do is
// in `masks` (shifted_chunk_masks), made once per geometry. Two kinds of window fit (cpu/conv.cpp):
// a stride-1 window whose output is as wide as its input (the image as it is), and a stride-2
// window over an even-sized image cut into its four phases (cpu/conv.cpp's split_phases), every
// tap then reading one phase at stride 1. The products that read it are the AVX-512 path's
// (sgemm_has_avx512).
struct ShiftedColumns {
  const float* image;
  int64_t channel_stride;     // floats from one channel's planes to the next's
  int64_t width, out_h, taps; // the planes' width (= the output's), the output's lines
  const int64_t* tap_offset;  // [taps]: plane offset + line shift * width + column shift
  const uint16_t* masks;      // [taps][ceil(out_h * width / 16)]
};

// Bit l of [tap * chunks + q]: pixel 16 q + l of that tap's column row reads inside its height x
// width plane, shifted by line_shift[tap] lines and col_shift[tap] columns (chunks = ceil(out_h *
// width / 16); pixels past out_h * width are 0).
std::vector<uint16_t> shifted_chunk_masks(int64_t height, int64_t width, int64_t out_h, int64_t taps,
                                          const int64_t* line_shift, const int64_t* col_shift);

// The adjoint of reading ShiftedColumns, into `image` laid out as s describes (s.image is not
// used): image[(r / taps) * channel_stride + tap_offset[tap] + p] += cols[r * out_h * width + p]
// for every row r < rows and every pixel p inside its plane, rows in order (the sums' order is
// fixed). A convolution's col2im for these windows. AVX-512 only.
void add_shifted_columns(const ShiftedColumns& s, int64_t rows, const float* cols, float* image);

// A[m, k] packed once for many products (a convolution's weights, image after image).
struct PackedRows {
  std::vector<float> data;
  int64_t m = 0, k = 0;
};
PackedRows pack_rows(int64_t m, int64_t k, MatrixView a);

// C[m, out_h * width] = (accumulate ? C : 0) + A[m, k] B with B the ShiftedColumns (k = channels *
// taps): the convolution's forward without im2col, as sgemm with B packed straight from the image.
// The AVX-512 path only.
void sgemm_shifted_columns(const PackedRows& a, const ShiftedColumns& s, float* c, int64_t ldc, bool accumulate);

// sgemm_nt with the B_b given as ShiftedColumns instead of stored rows: C[m, k_cols] (+)= sum over
// `count` images of A_b[m, pixels] B_b[k_cols, pixels]^T, A_b = a + b * a_step and B_b the columns
// of s.image + b * image_step (a convolution's weight gradient without im2col). From 32 columns
// on, A is packed and B's panels are the columns transposed in registers, for the 8 x 32 kernel;
// fewer columns take the 4 x 4 NT kernel reading the image rows. The AVX-512 path only.
void sgemm_nt_shifted_columns(int64_t m, int64_t k_cols, int64_t count, const float* a, int64_t lda, int64_t a_step,
                              const ShiftedColumns& s, int64_t image_step, float* c, int64_t ldc, bool accumulate);

}  // namespace facet::cpu
