// Convolution on the CPU, one image at a time, threads (OpenMP) over contiguous ranges of images,
// the GEMM inside serial. The columns of an image are [C*KH*KW, OH*OW] (0.9 MB for 32 channels,
// 3x3, 28x28: they stay in L2); the GEMM weight [O, C*KH*KW] x columns writes the image's output
// [O, OH*OW] in place in NCHW, so there is no batch-sized column matrix and no permute.
// - A 1x1, stride-1, unpadded window needs no columns: the image is its own column matrix.
// - A stride-1 window whose output is as wide as its input (3x3 pad 1, 5x5 pad 2), on the AVX-512
//   path, never stores columns: every column row is the image shifted (cpu/gemm_f32.h's
//   ShiftedColumns), read straight from the image by the products.
// - A stride-2 window whose output is half an even-sized input (a ResNet's downsampling 3x3 pad 1
//   and 1x1), on the AVX-512 path: the image is cut into its four phases (one copy of it, where
//   im2col writes 9/4 of it for a 3x3; for a 1x1 it wrote a quarter, and all four phases are cut
//   though one is read: there the gain is the packed weight gradient) and the products read the
//   phases as shifted columns; the input gradient's columns are added onto the phases
//   (add_shifted_columns) and put back in place.
// - Other windows: im2col into a thread's own buffer.
// Backward per image: grad x = col2im(weight^T x grad_out[n]), or, for a "same" window with no
// more out than in channels, a same convolution of grad_out with the flipped, transposed kernel;
// grad weight = sum over images of grad_out[n] x columns[n]^T, a group of images at a time, one
// accumulator per thread, added in thread order (deterministic for a given thread count).
// Floor: 2*N*O*C*KH*KW*OH*OW flops a pass (forward; the backward is twice that), at the GEMM's
// rate (cpu/gemm_f32.cpp); im2col and col2im move C*KH*KW*OH*OW elements per image through L2.
// float32 runs cpu/gemm_f32's kernels; float64 (gradchecks, references) runs OpenBLAS's dgemm,
// held to one thread while the images run in parallel.
#include "cpu/conv.h"

#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/dispatch.h"
#include "cpu/gemm_f32.h"
#include "cpu/lanes.h"

namespace facet::cpu {

namespace {

bool pointwise(const WindowGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

// A "same" window with stride 1 along both axes and no horizontal dilation (3x3, pad 1): each
// column row is the input plane shifted by a whole number of elements, so it is one block copy
// plus zeros for the lines above or below the plane and for the one or two columns that the shift
// wraps onto the neighbouring line. A line-by-line copy costs a call per 28 floats.
bool shifted_plane_rows(const WindowGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.dilation_w == 1 && g.out_w == g.width;
}

template <class T>
void im2col_shifted_planes(const T* x, const WindowGeometry& g, T* cols) {
  const int64_t ncols = g.cols(), w = g.width;
  for (int64_t r = 0; r < g.rows(); ++r) {
    const int64_t kj = r % g.kernel_w, ki = (r / g.kernel_w) % g.kernel_h, c = r / (g.kernel_w * g.kernel_h);
    const T* plane = x + c * g.height * w;
    T* out = cols + r * ncols;
    const int64_t top = ki * g.dilation_h - g.pad_h, shift = kj - g.pad_w;  // ih = oh + top, iw = ow + shift
    const int64_t lo = std::clamp<int64_t>(-top, 0, g.out_h), hi = std::clamp<int64_t>(g.height - top, lo, g.out_h);
    std::fill(out, out + lo * w, T(0));
    std::fill(out + hi * w, out + ncols, T(0));
    if (lo == hi) continue;
    // out[oh * w + ow] = plane[(oh + top) * w + ow + shift] over the valid lines, as one run; the
    // run's first or last `shift` elements would fall outside the plane and are edge zeros anyway.
    const int64_t begin = lo * w + std::max<int64_t>(-shift, 0), end = hi * w - std::max<int64_t>(shift, 0);
    const int64_t offset = top * w + shift;
    for (int64_t i = begin; i < end; ++i) out[i] = plane[i + offset];
    for (int64_t oh = lo; oh < hi; ++oh) {  // the wrapped columns are the padding's zeros
      for (int64_t ow = 0; ow < -shift; ++ow) out[oh * w + ow] = T(0);
      for (int64_t ow = w - shift; ow < w; ++ow) out[oh * w + ow] = T(0);
    }
  }
}

// One image [C, H, W] into columns [C*KH*KW, OH*OW] (core/conv_math.h's layout for N = 1).
template <class T>
void im2col_image(const T* x, const WindowGeometry& g, T* cols) {
  if (shifted_plane_rows(g)) return im2col_shifted_planes(x, g, cols);
  const int64_t ncols = g.cols();
  for (int64_t r = 0; r < g.rows(); ++r) {
    const int64_t kj = r % g.kernel_w, ki = (r / g.kernel_w) % g.kernel_h, c = r / (g.kernel_w * g.kernel_h);
    const T* plane = x + c * g.height * g.width;
    T* out = cols + r * ncols;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
      T* line = out + oh * g.out_w;
      if (ih < 0 || ih >= g.height) {
        std::fill(line, line + g.out_w, T(0));
        continue;
      }
      const T* src = plane + ih * g.width;
      const int64_t shift = kj * g.dilation_w - g.pad_w;
      if (g.stride_w == 1) {  // a shifted copy with zeros at the two ends
        const int64_t lo = std::clamp<int64_t>(-shift, 0, g.out_w), hi = std::clamp<int64_t>(g.width - shift, lo, g.out_w);
        std::fill(line, line + lo, T(0));
        std::copy(src + lo + shift, src + hi + shift, line + lo);
        std::fill(line + hi, line + g.out_w, T(0));
        continue;
      }
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t iw = ow * g.stride_w + shift;
        line[ow] = iw < 0 || iw >= g.width ? T(0) : src[iw];
      }
    }
  }
}

// col2im for shifted_plane_rows windows: each column row is added to its plane as one run. The
// elements the shift wraps onto a neighbouring line belong to the padding, so they are zeroed in
// the columns first (adding 0 leaves a sum unchanged) - this overwrites `cols`.
template <class T>
void col2im_shifted_planes(T* cols, const WindowGeometry& g, T* x) {
  const int64_t ncols = g.cols(), w = g.width;
  for (int64_t r = 0; r < g.rows(); ++r) {
    const int64_t kj = r % g.kernel_w, ki = (r / g.kernel_w) % g.kernel_h, c = r / (g.kernel_w * g.kernel_h);
    T* plane = x + c * g.height * w;
    T* in = cols + r * ncols;
    const int64_t top = ki * g.dilation_h - g.pad_h, shift = kj - g.pad_w;
    const int64_t lo = std::clamp<int64_t>(-top, 0, g.out_h), hi = std::clamp<int64_t>(g.height - top, lo, g.out_h);
    if (lo == hi) continue;
    for (int64_t oh = lo; oh < hi; ++oh) {
      for (int64_t ow = 0; ow < -shift; ++ow) in[oh * w + ow] = T(0);
      for (int64_t ow = w - shift; ow < w; ++ow) in[oh * w + ow] = T(0);
    }
    const int64_t begin = lo * w + std::max<int64_t>(-shift, 0), end = hi * w - std::max<int64_t>(shift, 0);
    const int64_t offset = top * w + shift;
    for (int64_t i = begin; i < end; ++i) plane[i + offset] += in[i];
  }
}

// The adjoint: image [C, H, W] = the sum of every column element im2col copied from it. Serial
// within an image, rows in order, so the sums' order is fixed. May overwrite `cols`.
template <class T>
void col2im_image(T* cols, const WindowGeometry& g, T* x) {
  std::fill(x, x + g.image_size(), T(0));
  if (shifted_plane_rows(g)) return col2im_shifted_planes(cols, g, x);
  const int64_t ncols = g.cols();
  for (int64_t r = 0; r < g.rows(); ++r) {
    const int64_t kj = r % g.kernel_w, ki = (r / g.kernel_w) % g.kernel_h, c = r / (g.kernel_w * g.kernel_h);
    T* plane = x + c * g.height * g.width;
    const T* in = cols + r * ncols;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
      if (ih < 0 || ih >= g.height) continue;
      T* dst = plane + ih * g.width;
      const T* line = in + oh * g.out_w;
      const int64_t shift = kj * g.dilation_w - g.pad_w;
      if (g.stride_w == 1) {  // a shifted add over the columns that land inside the row: a vector loop
        const int64_t lo = std::clamp<int64_t>(-shift, 0, g.out_w), hi = std::clamp<int64_t>(g.width - shift, lo, g.out_w);
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow + shift] += line[ow];
        continue;
      }
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t iw = ow * g.stride_w + shift;
        if (iw >= 0 && iw < g.width) dst[iw] += line[ow];
      }
    }
  }
}

// C[m, n] (+)= A B with A and B given as (pointer, row stride, column stride).
void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate) {
  sgemm(m, n, k, a, b, c, ldc, accumulate);
}
void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t ars, int64_t acs, const double* b, int64_t brs,
          int64_t bcs, double* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS leaves C untouched when k = 0
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0);
    return;
  }
  const bool ta = acs != 1, tb = bcs != 1;
  const int64_t lda = ta ? std::max(acs, m) : std::max(ars, k), ldb = tb ? std::max(bcs, k) : std::max(brs, n);
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb),
              accumulate ? 1.0 : 0.0, c, static_cast<int>(ldc));
}

// The three products of a convolution, by dtype.
template <class T>
void product_nn(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b, int64_t ldb, T* c,
                int64_t ldc, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) gemm(m, n, k, {a, ars, acs}, {b, ldb, 1}, c, ldc, accumulate);
  else gemm(m, n, k, a, ars, acs, b, ldb, 1, c, ldc, accumulate);
}
// C (+)= sum over `count` pairs of A_b B_b^T (cpu/gemm_f32.h's sgemm_nt).
template <class T>
void product_nt(int64_t m, int64_t n, int64_t k, int64_t count, const T* a, int64_t lda, int64_t a_step, const T* b,
                int64_t ldb, int64_t b_step, T* c, int64_t ldc, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    sgemm_nt(m, n, k, count, a, lda, a_step, b, ldb, b_step, c, ldc, accumulate);
  } else {
    for (int64_t pair = 0; pair < count; ++pair)
      gemm(m, n, k, a + pair * a_step, lda, 1, b + pair * b_step, 1, ldb, c, ldc, accumulate || pair > 0);
  }
}

// Images per group of a weight-gradient product: as many as fit in about 2 MB (this CPU's L2 per
// core), at most `most`, so the 4 x 4 kernel's lane sums (or the packed product's C updates) are
// paid once per group.
int64_t images_per_group(int64_t bytes_per_image, int64_t most) {
  return std::clamp<int64_t>((int64_t{2} << 20) / std::max<int64_t>(bytes_per_image, 1), 1, most);
}

// A stride-2 window over an even-sized image whose output is half the image (3x3 pad 1, 1x1, 5x5
// pad 2; dilation 1): cut into its four phases (split_phases), each tap reads one phase at
// stride 1, shifted by whole elements, so its columns are ShiftedColumns too.
bool phase_window(const WindowGeometry& g) {
  return g.stride_h == 2 && g.stride_w == 2 && g.dilation_h == 1 && g.dilation_w == 1 && g.height % 2 == 0 &&
         g.width % 2 == 0 && g.out_h == g.height / 2 && g.out_w == g.width / 2;
}

// One line of 2 * half floats dealt into its even and odd elements, 32 at a time (two loads, a
// lane permutation for each half, two stores): what a scalar stride-2 copy does a float at a time.
__attribute__((target("avx512f"))) void split_line(const float* src, int64_t half, float* even, float* odd) {
  const __m512i pick_even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i pick_odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int64_t j = 0; j < half; j += 16) {
    const int64_t n = std::min<int64_t>(16, half - j);
    const __m512 a = _mm512_maskz_loadu_ps(first_lanes(2 * n), src + 2 * j);
    const __m512 b = _mm512_maskz_loadu_ps(first_lanes(2 * n - 16), src + 2 * j + 16);
    _mm512_mask_storeu_ps(even + j, first_lanes(n), _mm512_permutex2var_ps(a, pick_even, b));
    _mm512_mask_storeu_ps(odd + j, first_lanes(n), _mm512_permutex2var_ps(a, pick_odd, b));
  }
}

// The inverse: even and odd elements interleaved back into one line of 2 * half floats.
__attribute__((target("avx512f"))) void merge_line(const float* even, const float* odd, int64_t half, float* dst) {
  const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t j = 0; j < half; j += 16) {
    const int64_t n = std::min<int64_t>(16, half - j);
    const __m512 e = _mm512_maskz_loadu_ps(first_lanes(n), even + j), o = _mm512_maskz_loadu_ps(first_lanes(n), odd + j);
    _mm512_mask_storeu_ps(dst + 2 * j, first_lanes(2 * n), _mm512_permutex2var_ps(e, low, o));
    _mm512_mask_storeu_ps(dst + 2 * j + 16, first_lanes(2 * n - 16), _mm512_permutex2var_ps(e, high, o));
  }
}

// Visits every line of an image [C, H, W] (H, W even) with the two lines of its phases [C][4][H/2][W/2]
// that hold its even and odd elements (phase 2a + b holds x[c][2i + a][2j + b]): line(image
// offset, even phase offset, odd phase offset).
template <class Line>
void walk_phase_lines(const WindowGeometry& g, Line&& line) {
  const int64_t h2 = g.height / 2, w2 = g.width / 2;
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t y = 0; y < g.height; ++y) {
      const int64_t even = ((c * 4 + 2 * (y % 2)) * h2 + y / 2) * w2;
      line((c * g.height + y) * g.width, even, even + h2 * w2);
    }
}

void split_phases(const float* x, const WindowGeometry& g, float* phases) {
  walk_phase_lines(g, [&](int64_t i, int64_t e, int64_t o) { split_line(x + i, g.width / 2, phases + e, phases + o); });
}

// The inverse of split_phases, a permutation, so also its adjoint (the input gradient's way back).
void merge_phases(const float* phases, const WindowGeometry& g, float* x) {
  walk_phase_lines(g, [&](int64_t i, int64_t e, int64_t o) { merge_line(phases + e, phases + o, g.width / 2, x + i); });
}

// The window as cpu/gemm_f32's ShiftedColumns (its per-tap offsets and pixel masks kept here), when
// the products can read the columns from the image (Same) or from its phases (Phases) instead of
// from im2col's copy.
struct ImplicitColumns {
  enum Kind { None, Same, Phases } kind;
  std::vector<int64_t> tap_offset;
  std::vector<uint16_t> masks;
  ShiftedColumns columns{};
  explicit ImplicitColumns(const WindowGeometry& g)
      : kind(!sgemm_has_avx512()      ? None
             : shifted_plane_rows(g) ? Same
             : phase_window(g)       ? Phases
                                     : None) {
    if (kind == None) return;
    const int64_t taps = g.kernel_h * g.kernel_w, split = kind == Phases ? 2 : 1;
    const int64_t height = g.height / split, width = g.width / split;
    std::vector<int64_t> line_shift(taps), col_shift(taps);
    tap_offset.resize(taps);
    for (int64_t t = 0; t < taps; ++t) {
      // The input line (column) of output line (column) 0, and on the phases the phase it lies in.
      const int64_t dy = (t / g.kernel_w) * g.dilation_h - g.pad_h, dx = (t % g.kernel_w) * g.dilation_w - g.pad_w;
      const int64_t a = kind == Phases ? dy & 1 : 0, b = kind == Phases ? dx & 1 : 0;
      line_shift[t] = (dy - a) / split;
      col_shift[t] = (dx - b) / split;
      tap_offset[t] = (2 * a + b) * height * width + line_shift[t] * width + col_shift[t];
    }
    masks = shifted_chunk_masks(height, width, g.out_h, taps, line_shift.data(), col_shift.data());
    columns = {nullptr, g.height * g.width, width, g.out_h, taps, tap_offset.data(), masks.data()};
  }
  ImplicitColumns(const ImplicitColumns&) = delete;  // `columns` points into the vectors
  ImplicitColumns& operator=(const ImplicitColumns&) = delete;
};

// A window whose output is its input's size at stride 1 and dilation 1 (odd kernel, pad (k-1)/2).
bool same_window(const WindowGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         2 * g.pad_h == g.kernel_h - 1 && 2 * g.pad_w == g.kernel_w - 1;
}

// The kernel for the input gradient of a same_window convolution: [C, O * taps] with entry
// (c, o, ki, kj) = W[o, c, KH-1-ki, KW-1-kj]; the same padding then maps the output gradient back.
std::vector<float> flipped_transposed(const Tensor& weight, const WindowGeometry& g) {
  const int64_t o = weight.size(0), c = g.channels, kh = g.kernel_h, kw = g.kernel_w, taps = kh * kw;
  const float* w = weight.data<float>();
  std::vector<float> out(static_cast<size_t>(c * o * taps));
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t oi = 0; oi < o; ++oi)
      for (int64_t t = 0; t < taps; ++t)
        out[(ci * o + oi) * taps + t] = w[(oi * c + ci) * taps + (taps - 1 - t)];
  return out;
}

// OpenBLAS's own threads would fight the images' threads (and a pthreads OpenBLAS does not see
// OpenMP's regions): while the images run in parallel, BLAS runs on one thread.
struct SerialBlas {
  int saved = 0;
  explicit SerialBlas(bool uses_blas) {
    if (uses_blas && (saved = openblas_get_num_threads()) > 1) openblas_set_num_threads(1);
  }
  ~SerialBlas() {
    if (saved > 1) openblas_set_num_threads(saved);
  }
};

template <class T>
bool uses_blas() {
  return !std::is_same_v<T, float> || !sgemm_has_avx512();
}

// Runs body(thread, first image, end image) on contiguous, static ranges of images.
template <class Body>
int for_image_ranges(int64_t n, Body&& body) {
  int used = 1;
#pragma omp parallel if (n > 1)
  {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    if (t == 0) used = threads;
    body(t, n * t / threads, n * (t + 1) / threads);
  }
  return used;
}

// Column buffers kept per thread between calls: fresh ones per call would cost page faults.
template <class T>
T* scratch(std::vector<T>& buf, int64_t size) {
  if (static_cast<int64_t>(buf.size()) < size) buf.resize(size);
  return buf.data();
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                    const Tensor& out) {
  const int64_t n = x.size(0), o = weight.size(0), rows = g.rows(), ncols = g.cols();
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* py = out.data<T>();
    const bool direct = pointwise(g);
    // A shifted-plane or phase window on the AVX-512 path packs the GEMM's panels straight from
    // the image or its phases.
    const ImplicitColumns shifted(g);
    const bool implicit = std::is_same_v<T, float> && !direct && shifted.kind != ImplicitColumns::None;
    const bool phases = implicit && shifted.kind == ImplicitColumns::Phases;
    const PackedRows packed_w = implicit ? pack_rows(o, rows, {weight.data<float>(), rows, 1}) : PackedRows();
    SerialBlas serial(uses_blas<T>());
    for_image_ranges(n, [&](int, int64_t first, int64_t end) {
      thread_local std::vector<T> cols_buf, phase_buf;
      T* cols = direct || implicit ? nullptr : scratch(cols_buf, rows * ncols);
      T* phase = phases ? scratch(phase_buf, g.image_size()) : nullptr;
      for (int64_t b = first; b < end; ++b) {
        const T* image = px + b * g.image_size();
        T* y = py + b * o * ncols;
        if (pb)
          for (int64_t oc = 0; oc < o; ++oc) std::fill(y + oc * ncols, y + (oc + 1) * ncols, pb[oc]);
        if constexpr (std::is_same_v<T, float>) {
          if (implicit) {
            ShiftedColumns columns = shifted.columns;
            columns.image = image;
            if (phases) {
              split_phases(image, g, phase);
              columns.image = phase;
            }
            sgemm_shifted_columns(packed_w, columns, y, ncols, pb != nullptr);
            continue;
          }
        }
        if (!direct) im2col_image(image, g, cols);
        product_nn<T>(o, ncols, rows, pw, rows, 1, direct ? image : cols, ncols, y, ncols, pb != nullptr);
      }
    });
  });
}

void conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const WindowGeometry& g,
                     const Tensor& grad_x, const Tensor& grad_weight) {
  const int64_t n = x.size(0), o = weight.size(0), rows = g.rows(), ncols = g.cols();
  dispatch_floating(x.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = grad.data<T>();
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    T* pgx = grad_x.defined() ? grad_x.data<T>() : nullptr;
    const bool want_w = grad_weight.defined(), direct = pointwise(g);
    const int64_t wsize = o * rows;
    std::vector<T> partial(want_w ? static_cast<size_t>(omp_get_max_threads() * wsize) : 0, T(0));
    SerialBlas serial(uses_blas<T>());
    const ImplicitColumns shifted(g);
    const bool implicit = std::is_same_v<T, float> && !direct && shifted.kind != ImplicitColumns::None;
    const bool phases = implicit && shifted.kind == ImplicitColumns::Phases;
    // A group's column matrices side by side, or (implicit) its images and output gradients.
    const int64_t group = direct     ? n
                          : implicit ? images_per_group((g.image_size() + o * ncols) * 4, 16)
                                     : images_per_group(rows * ncols * 4, 8);
    // For a "same" window the input gradient is itself a "same" convolution, of the output
    // gradient with the flipped, transposed kernel: the shifted-columns product, no col2im. Its
    // packing moves O x taps x HW floats an image where the column path's col2im adds C x taps x
    // HW, so it is taken when O <= C (measured, batch 256: 32->32 at 28x28 29 vs 39 ms, 64->64 at
    // 14x14 26 vs 33; 32->64 at 28x28 68 vs 58 the other way).
    const bool implicit_dx = implicit && pgx && same_window(g) && o <= g.channels;
    const int64_t taps = g.kernel_h * g.kernel_w;
    const PackedRows flipped =
        implicit_dx ? pack_rows(g.channels, o * taps, {flipped_transposed(weight, g).data(), o * taps, 1}) : PackedRows();
    const int used = for_image_ranges(n, [&](int t, int64_t first, int64_t end) {
      thread_local std::vector<T> cols_buf, group_buf, phase_buf;
      T* cols = direct || implicit_dx ? nullptr : scratch(cols_buf, rows * ncols);
      T* group_cols = direct || implicit || !want_w ? nullptr : scratch(group_buf, group * rows * ncols);
      // Phase windows: the group's images as phases (for grad W), and one image's phase gradient.
      T* group_phases = phases && want_w ? scratch(group_buf, group * g.image_size()) : nullptr;
      T* phase_grad = phases && pgx ? scratch(phase_buf, g.image_size()) : nullptr;
      for (int64_t b0 = first; b0 < end; b0 += group) {
        const int64_t count = std::min(group, end - b0);
        for (int64_t b = b0; b < b0 + count; ++b) {
          if constexpr (std::is_same_v<T, float>) {
            if (implicit_dx) {  // grad x [C, H*W] = flipped [C, O*taps] x shifted columns of grad_out
              ShiftedColumns columns = shifted.columns;
              columns.image = pg + b * o * ncols;
              sgemm_shifted_columns(flipped, columns, pgx + b * g.image_size(), ncols, false);
            }
          }
          if (pgx && !implicit_dx) {  // grad columns = W^T [rows, O] x grad_out [O, OH*OW]
            T* gx = pgx + b * g.image_size();
            product_nn<T>(rows, ncols, o, pw, 1, rows, pg + b * o * ncols, ncols, direct ? gx : cols, ncols, false);
            if constexpr (std::is_same_v<T, float>) {
              if (phases) {  // col2im onto the phases, then the phases back into the image
                std::fill(phase_grad, phase_grad + g.image_size(), 0.0f);
                add_shifted_columns(shifted.columns, rows, cols, phase_grad);
                merge_phases(phase_grad, g, gx);
              }
            }
            if (!direct && !phases) col2im_image(cols, g, gx);
          }
          if constexpr (std::is_same_v<T, float>) {
            if (group_phases) split_phases(px + b * g.image_size(), g, group_phases + (b - b0) * g.image_size());
          }
          if (want_w && group_cols) im2col_image(px + b * g.image_size(), g, group_cols + (b - b0) * rows * ncols);
        }
        // grad W [O, rows] += sum over the group of grad_out [O, OH*OW] x columns^T
        if constexpr (std::is_same_v<T, float>) {
          if (want_w && implicit) {
            ShiftedColumns columns = shifted.columns;
            columns.image = phases ? group_phases : px + b0 * g.image_size();
            sgemm_nt_shifted_columns(o, rows, count, pg + b0 * o * ncols, ncols, o * ncols, columns, g.image_size(),
                                     partial.data() + t * wsize, rows, true);
            continue;
          }
        }
        if (want_w)
          product_nt<T>(o, rows, ncols, count, pg + b0 * o * ncols, ncols, o * ncols,
                        direct ? px + b0 * g.image_size() : group_cols, ncols, direct ? g.image_size() : rows * ncols,
                        partial.data() + t * wsize, rows, true);
      }
    });
    if (want_w) {
      T* pgw = grad_weight.data<T>();
      std::fill(pgw, pgw + wsize, T(0));
      for (int t = 0; t < used; ++t)
        for (int64_t i = 0; i < wsize; ++i) pgw[i] += partial[t * wsize + i];
    }
  });
}

}  // namespace facet::cpu
