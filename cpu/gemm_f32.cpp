// Packed float32 GEMM with an 8 x 32 AVX-512 micro-kernel (see cpu/gemm_f32.h for why it exists).
// A is packed into panels of 8 rows ([k][8]), B into panels of 32 columns ([k][32], zero-padded),
// and the kernel keeps a 8 x 32 tile of C in 16 zmm registers over the whole k: per k step two
// loads of B, eight broadcasts of A and sixteen FMAs. Floor: 2*m*n*k flops at two 16-wide FMAs a
// cycle (64 flops/cycle); packing moves (m + n) * k floats per call, small beside the flops for
// the convolution's shapes (m, n >= 32). The convolution's k (C*KH*KW <= a few thousand) keeps
// one B panel in L1/L2; blocking k by 256 measured no different, so there is none. Measured with
// bench/conv_layers and bench/train_step.
#include "cpu/gemm_f32.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "cpu/lanes.h"

namespace facet::cpu {

namespace {

constexpr int64_t kMr = 8, kNr = 32;

// The 128-bit lanes of a and b dealt into two vectors: even = (a0, a2, b0, b2), odd = (a1, a3, b1, b3).
__attribute__((target("avx512f"))) inline void split_lanes(__m512 a, __m512 b, __m512& even, __m512& odd) {
  const __mmask16 all = 0xFFFF;
  even = _mm512_maskz_shuffle_f32x4(all, a, b, 0x88);
  odd = _mm512_maskz_shuffle_f32x4(all, a, b, 0xDD);
}

// The 16 x 16 transpose of r in registers (lane j of r[i] becomes lane i of r[j]): pairs, then
// quads within 128-bit lanes, then the 128-bit lanes in two steps; 64 shuffles for 256 floats.
__attribute__((target("avx512f"))) inline void transpose_16x16(__m512 r[16]) {
  const __mmask16 all = 0xFFFF;  // the zero-masked forms, as in lane_sum (GCC 12's -Wmaybe-uninitialized)
  const __mmask8 all8 = 0xFF;
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(all, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(all, r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, _mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 2])));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, _mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 2])));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, _mm512_castps_pd(t[4 * i + 1]), _mm512_castps_pd(t[4 * i + 3])));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, _mm512_castps_pd(t[4 * i + 1]), _mm512_castps_pd(t[4 * i + 3])));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    split_lanes(r[i], r[4 + i], t[i], t[4 + i]);
    split_lanes(r[8 + i], r[12 + i], t[8 + i], t[12 + i]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    split_lanes(t[i], t[8 + i], r[i], r[8 + i]);
    split_lanes(t[4 + i], t[12 + i], r[4 + i], r[12 + i]);
  }
}

// Panels of kMr rows of A, zero-padded: dst[(panel * ld + p) * kMr + i] = A(panel * kMr + i, p)
// for p < k. ld is the packed k (k itself, or more when several A fill one panel's k side by side).
// Rows contiguous along k (a convolution's output gradient, its weights) go sixteen rows (two
// panels) by sixteen k at a time through transpose_16x16: a float at a time, this packing of the
// output gradient cost about 2% of a ResNet step.
__attribute__((target("avx512f"))) void pack_a(int64_t m, int64_t k, MatrixView a, float* dst, int64_t ld) {
  if (a.cs == 1) {
    for (int64_t i0 = 0; i0 < m; i0 += 2 * kMr) {
      const int64_t rows = std::min(2 * kMr, m - i0);
      float* out = dst + i0 * ld;  // the first panel; the second starts kMr * ld floats on
      for (int64_t p = 0; p < k; p += 16) {
        const __mmask16 lanes = first_lanes(k - p);
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(lanes, a.p + (i0 + i) * a.rs + p) : _mm512_setzero_ps();
        transpose_16x16(r);  // r[t]: rows i0 .. i0 + 15 at k = p + t
        const int64_t valid = std::min<int64_t>(16, k - p);
        for (int64_t t = 0; t < valid; ++t) {
          _mm512_mask_storeu_ps(out + (p + t) * kMr, 0x00FF, r[t]);
          // lanes 8 .. 15 to the second panel: a store 8 floats early with only those lanes on
          if (rows > kMr) _mm512_mask_storeu_ps(out + (kMr * ld) + (p + t) * kMr - kMr, 0xFF00, r[t]);
        }
      }
    }
    return;
  }
  for (int64_t i0 = 0; i0 < m; i0 += kMr) {  // columns contiguous (a transposed operand): read along them
    const int64_t mr = std::min(kMr, m - i0);
    float* out = dst + i0 * ld;
    for (int64_t p = 0; p < k; ++p) {
      const float* src = a.p + i0 + p * a.cs;
      for (int64_t i = 0; i < mr; ++i) out[p * kMr + i] = src[i];
      for (int64_t i = mr; i < kMr; ++i) out[p * kMr + i] = 0.0f;
    }
  }
}

// One panel of kNr columns of B starting at column j0, zero-padded: dst[p * kNr + j]. The
// contiguous case is two (masked) vector copies a row: a scalar copy here costs as much as the
// kernel's FMAs for m = 32.
__attribute__((target("avx512f"))) void pack_b(int64_t n, int64_t k, MatrixView b, int64_t j0, float* dst) {
  const int64_t nr = std::min(kNr, n - j0);
  if (b.cs == 1) {
    const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
    for (int64_t p = 0; p < k; ++p) {
      const float* src = b.p + p * b.rs + j0;
      _mm512_storeu_ps(dst + p * kNr, _mm512_maskz_loadu_ps(m0, src));
      _mm512_storeu_ps(dst + p * kNr + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
  } else {  // B's rows are contiguous in memory down a column (a transposed operand)
    for (int64_t j = 0; j < kNr; ++j) {
      if (j >= nr) {
        for (int64_t p = 0; p < k; ++p) dst[p * kNr + j] = 0.0f;
        continue;
      }
      const float* src = b.p + (j0 + j) * b.cs;
      for (int64_t p = 0; p < k; ++p) dst[p * kNr + j] = src[p * b.rs];
    }
  }
}

__attribute__((target("avx512f"))) void kernel_8x32(int64_t k, const float* a, const float* b, float* c, int64_t ldc,
                                                     bool accumulate, int64_t mr, int64_t nr) {
  __m512 acc[kMr][2];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    const __m512 b0 = _mm512_loadu_ps(b + p * kNr), b1 = _mm512_loadu_ps(b + p * kNr + 16);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[p * kMr + i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
    __m512 v0 = acc[i][0], v1 = acc[i][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

void sgemm_blas(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate) {
  if (k == 0) {  // BLAS leaves C untouched when k = 0
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  // The packers' views name either stride 1; BLAS wants the other one as the leading dimension.
  const bool ta = a.cs != 1, tb = b.cs != 1;
  const int64_t lda = ta ? std::max(a.cs, m) : std::max(a.rs, k), ldb = tb ? std::max(b.cs, k) : std::max(b.rs, n);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a.p, static_cast<int>(lda), b.p, static_cast<int>(ldb),
              accumulate ? 1.0f : 0.0f, c, static_cast<int>(ldc));
}

// The sum of v's 16 lanes as a tree of four swap-and-add steps (halves, quarters, pairs, lanes):
// a fixed order, and a quarter of the instructions of a store and fifteen scalar adds (which cost
// as much as the 4 x 4 kernel's FMAs at k = 784). The zero-masked forms with a full mask: the
// plain ones (and _mm512_reduce_add_ps) start from _mm512_undefined_ps, which GCC 12 reports as
// -Wmaybe-uninitialized.
__attribute__((target("avx512f"))) inline float lane_sum(__m512 v) {
  const __mmask16 all = 0xFFFF;
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, 0x4E));  // 256-bit halves
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, 0xB1));  // 128-bit quarters
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, 0x4E));        // pairs within a quarter
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, 0xB1));        // neighbours
  return _mm512_cvtss_f32(v);
}

// ShiftedColumns' 16-pixel chunks per row.
int64_t shifted_chunks(const ShiftedColumns& s) { return (s.out_h * s.width + 15) / 16; }

// Where row r of ShiftedColumns starts in its image: pixel p of the row reads image[offset + p].
int64_t shifted_row_offset(const ShiftedColumns& s, int64_t r) {
  return (r / s.taps) * s.channel_stride + s.tap_offset[r % s.taps];
}

// The B rows of a 4 x 4 NT tile, as the kernel loads them: lanes p .. p + 15 (chunk q = p / 16)
// of row j of pair b. Stored rows mask only the tail past k.
struct StoredRows {
  const float* row[4];
  int64_t step;  // between pairs
  __attribute__((target("avx512f"))) __m512 load(int j, int64_t pair, int64_t p, int64_t, __mmask16 tail) const {
    return _mm512_maskz_loadu_ps(tail, row[j] + pair * step + p);
  }
};

// ShiftedColumns' rows, read from the image: each row is the image at a fixed offset, its lanes
// that fall in the padding masked off per chunk (masked-off lanes are not read: AVX-512
// suppresses their faults), so the zeros a stored column row holds there come from the mask.
struct ImageRows {
  const float* image;
  int64_t step;  // between images
  int64_t offset[4];
  const uint16_t* masks[4];  // per chunk
  __attribute__((target("avx512f"))) __m512 load(int j, int64_t pair, int64_t p, int64_t q, __mmask16) const {
    return _mm512_maskz_loadu_ps(masks[j][q], image + pair * step + offset[j] + p);
  }
};

// C[i0 + i, j0 + j] (+)= the sum over the pairs of dot(A_b row i0 + i, B_b row j0 + j) for a 4 x 4
// tile, both operands' rows contiguous along k: sixteen accumulators of 16 lanes of k, summed
// across lanes once at the end. Per 16 k steps: eight loads, sixteen FMAs; no packing at all.
// Rows past the tile's edge (i >= mr, j >= nr) repeat row 0 and are never stored: no branch.
template <class Rows>
__attribute__((target("avx512f"))) void kernel_nt_4x4(int64_t k, int64_t count, const float* a, int64_t lda,
                                                      int64_t a_step, const Rows& b, float* c, int64_t ldc,
                                                      bool accumulate, int64_t mr, int64_t nr) {
  __m512 acc[4][4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t pair = 0; pair < count; ++pair) {
    const float* ar[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) ar[i] = a + pair * a_step + (i < mr ? i : 0) * lda;
    for (int64_t p = 0, q = 0; p < k; p += 16, ++q) {
      const __mmask16 m = first_lanes(k - p);
      __m512 bv[4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) bv[j] = b.load(j, pair, p, q, m);
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m512 av = _mm512_maskz_loadu_ps(m, ar[i] + p);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
      }
    }
  }
  // The sums with constant indices first: indexing acc by the run-time tile size would make GCC
  // keep all sixteen accumulators in memory, stored on every step of the loop above.
  float sums[4][4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) sums[i][j] = lane_sum(acc[i][j]);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + sums[i][j] : sums[i][j];
}

}  // namespace

void sgemm_nt(int64_t m, int64_t n, int64_t k, int64_t count, const float* a, int64_t lda, int64_t a_step,
              const float* b, int64_t ldb, int64_t b_step, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (!sgemm_has_avx512()) {
    for (int64_t pair = 0; pair < count; ++pair)
      sgemm(m, n, k, {a + pair * a_step, lda, 1}, {b + pair * b_step, 1, ldb}, c, ldc, accumulate || pair > 0);
    if (count == 0 && !accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  // Four B rows stay in L1 while the A rows stream past them.
  for (int64_t j0 = 0; j0 < n; j0 += 4) {
    const int64_t nr = std::min<int64_t>(4, n - j0);
    StoredRows rows{{}, b_step};
    for (int j = 0; j < 4; ++j) rows.row[j] = b + (j0 + (j < nr ? j : 0)) * ldb;
    for (int64_t i0 = 0; i0 < m; i0 += 4)
      kernel_nt_4x4(k, count, a + i0 * lda, lda, a_step, rows, c + i0 * ldc + j0, ldc, accumulate,
                    std::min<int64_t>(4, m - i0), nr);
  }
}

namespace {
// FACET_NO_AVX512=1 takes the cblas_sgemm path on any CPU.
std::atomic<bool> use_avx512{__builtin_cpu_supports("avx512f") && !std::getenv("FACET_NO_AVX512")};
}  // namespace

bool sgemm_has_avx512() { return use_avx512.load(std::memory_order_relaxed); }

void set_sgemm_avx512(bool enabled) { use_avx512 = enabled && __builtin_cpu_supports("avx512f"); }

namespace {

// The packed product of A (packed by pack_a) and B's panels from pack_panel(j0, dst): each panel
// of B packed once and run past every tile of A's rows.
template <class PackPanel>
void packed_product(int64_t m, int64_t n, int64_t k, const float* packed_a, PackPanel&& pack_panel, float* c,
                    int64_t ldc, bool accumulate) {
  // Per-thread scratch, kept between calls: a fresh buffer per image would cost page faults. Its
  // rows start on cache lines (the vector's own data is only 16-byte aligned), so none of the
  // kernel's loads of B straddles two lines.
  thread_local std::vector<float> packed_b_buf;
  if (static_cast<int64_t>(packed_b_buf.size()) < kNr * k + 16) packed_b_buf.resize(kNr * k + 16);
  float* const packed_b = packed_b_buf.data() + (64 - reinterpret_cast<uintptr_t>(packed_b_buf.data()) % 64) % 64 / 4;
  for (int64_t j0 = 0; j0 < n; j0 += kNr) {
    pack_panel(j0, packed_b);
    const int64_t nr = std::min(kNr, n - j0);
    for (int64_t i0 = 0; i0 < m; i0 += kMr)
      kernel_8x32(k, packed_a + i0 * k, packed_b, c + i0 * ldc + j0, ldc, accumulate, std::min(kMr, m - i0), nr);
  }
}

// One panel of ShiftedColumns: per row two masked loads straight from the image, the masks the
// tap's two 16-pixel chunks of the panel (s.masks). A masked-off lane is not read (AVX-512
// suppresses its fault), so the edge pixels need no branch. The row's channel and tap are
// counted, not divided out of r: with a 64-bit division a row, this loop alone took 1.7 times as
// long (a microbenchmark on a Zen 5, 32 channels x 9 taps at 28 x 28).
__attribute__((target("avx512f"))) void pack_shifted_panel(const ShiftedColumns& s, int64_t k, int64_t j0,
                                                           float* dst) {
  const int64_t chunks = shifted_chunks(s), q = j0 / 16;
  const float* channel = s.image + j0;
  for (int64_t r = 0, tap = 0; r < k; ++r) {
    const uint16_t* masks = s.masks + tap * chunks;
    const float* src = channel + s.tap_offset[tap];
    _mm512_storeu_ps(dst + r * kNr, _mm512_maskz_loadu_ps(masks[q], src));
    _mm512_storeu_ps(dst + r * kNr + 16, _mm512_maskz_loadu_ps(q + 1 < chunks ? masks[q + 1] : 0, src + 16));
    if (++tap == s.taps) {
      tap = 0;
      channel += s.channel_stride;
    }
  }
}

// One panel of ShiftedColumns' rows j0 .. j0 + kNr - 1 (zero past n) over `count` images,
// transposed for the 8 x 32 kernel: dst[(b * pixels + p) * kNr + j] = row j0 + j of image b at
// pixel p. Sixteen rows at a time are loaded 16 pixels each (masked as in pack_shifted_panel)
// and transposed in registers.
__attribute__((target("avx512f"))) void pack_shifted_transposed_panel(const ShiftedColumns& s, int64_t n,
                                                                      int64_t count, int64_t image_step, int64_t j0,
                                                                      float* dst) {
  const int64_t pixels = s.out_h * s.width, chunks = shifted_chunks(s);
  thread_local std::vector<uint16_t> no_lanes;  // the masks of the rows past n
  if (static_cast<int64_t>(no_lanes.size()) < chunks) no_lanes.assign(chunks, 0);
  for (int64_t half = 0; half < kNr / 16; ++half) {
    int64_t offset[16];
    const uint16_t* masks[16];
    for (int j = 0; j < 16; ++j) {
      const int64_t r = j0 + 16 * half + j;
      offset[j] = r < n ? shifted_row_offset(s, r) : 0;
      masks[j] = r < n ? s.masks + (r % s.taps) * chunks : no_lanes.data();
    }
    for (int64_t b = 0; b < count; ++b) {
      const float* image = s.image + b * image_step;
      float* out = dst + b * pixels * kNr + 16 * half;
      for (int64_t p = 0, q = 0; p < pixels; p += 16, ++q) {
        __m512 r[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j) r[j] = _mm512_maskz_loadu_ps(masks[j][q], image + offset[j] + p);
        transpose_16x16(r);
        const int64_t valid = std::min<int64_t>(16, pixels - p);
        for (int64_t t = 0; t < valid; ++t) _mm512_storeu_ps(out + (p + t) * kNr, r[t]);
      }
    }
  }
}

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (!sgemm_has_avx512()) return sgemm_blas(m, n, k, a, b, c, ldc, accumulate);
  thread_local std::vector<float> packed_a;
  const int64_t m_pad = (m + kMr - 1) / kMr * kMr;
  if (static_cast<int64_t>(packed_a.size()) < m_pad * k) packed_a.resize(m_pad * k);
  pack_a(m, k, a, packed_a.data(), k);
  packed_product(m, n, k, packed_a.data(), [&](int64_t j0, float* dst) { pack_b(n, k, b, j0, dst); }, c, ldc,
                 accumulate);
}

PackedRows pack_rows(int64_t m, int64_t k, MatrixView a) {
  PackedRows packed{std::vector<float>(static_cast<size_t>((m + kMr - 1) / kMr * kMr * k)), m, k};
  pack_a(m, k, a, packed.data.data(), k);
  return packed;
}

std::vector<uint16_t> shifted_chunk_masks(int64_t height, int64_t width, int64_t out_h, int64_t taps,
                                          const int64_t* line_shift, const int64_t* col_shift) {
  const int64_t pixels = out_h * width, chunks = (pixels + 15) / 16;
  std::vector<uint16_t> masks(static_cast<size_t>(taps * chunks), 0);
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t p = 0; p < pixels; ++p) {
      const int64_t ih = p / width + line_shift[t], iw = p % width + col_shift[t];
      if (ih >= 0 && ih < height && iw >= 0 && iw < width) masks[t * chunks + p / 16] |= uint16_t(1u << (p % 16));
    }
  return masks;
}

__attribute__((target("avx512f"))) void add_shifted_columns(const ShiftedColumns& s, int64_t rows, const float* cols,
                                                            float* image) {
  const int64_t pixels = s.out_h * s.width, chunks = shifted_chunks(s);
  for (int64_t r = 0; r < rows; ++r) {
    const uint16_t* masks = s.masks + (r % s.taps) * chunks;
    float* dst = image + shifted_row_offset(s, r);
    const float* src = cols + r * pixels;
    // A lane outside the plane is neither loaded nor stored (AVX-512 suppresses masked-off faults).
    for (int64_t p = 0, q = 0; p < pixels; p += 16, ++q) {
      const __mmask16 m = masks[q];
      _mm512_mask_storeu_ps(dst + p, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + p), _mm512_maskz_loadu_ps(m, src + p)));
    }
  }
}

void sgemm_nt_shifted_columns(int64_t m, int64_t k_cols, int64_t count, const float* a, int64_t lda, int64_t a_step,
                              const ShiftedColumns& s, int64_t image_step, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || k_cols == 0) return;
  const int64_t pixels = s.out_h * s.width, k = pixels * count;
  if (k_cols < kNr) {
    // Few columns (a first layer: one channel, 9 or 25 taps): most of a 32-wide panel would be
    // padding, so the 4 x 4 NT kernel reads the image rows as they are.
    const int64_t chunks = shifted_chunks(s);
    for (int64_t j0 = 0; j0 < k_cols; j0 += 4) {
      const int64_t nr = std::min<int64_t>(4, k_cols - j0);
      ImageRows rows{s.image, image_step, {}, {}};
      for (int j = 0; j < 4; ++j) {
        const int64_t r = j0 + (j < nr ? j : 0);
        rows.offset[j] = shifted_row_offset(s, r);
        rows.masks[j] = s.masks + (r % s.taps) * chunks;
      }
      for (int64_t i0 = 0; i0 < m; i0 += 4)
        kernel_nt_4x4(pixels, count, a + i0 * lda, lda, a_step, rows, c + i0 * ldc + j0, ldc, accumulate,
                      std::min<int64_t>(4, m - i0), nr);
    }
    return;
  }
  // Otherwise the packed product: the output gradient's rows packed as A, the columns transposed
  // into B's panels. Measured (bench/conv_layers, forward + backward, batch 256): 32->64 at 28x28
  // 133 -> 100 ms, 64->128 at 14x14 151 -> 80 ms against the 4 x 4 NT kernel, which reloads both
  // operands from L2 for every 16 FMAs.
  thread_local std::vector<float> packed_a;
  const int64_t m_pad = (m + kMr - 1) / kMr * kMr;
  if (static_cast<int64_t>(packed_a.size()) < m_pad * k) packed_a.resize(m_pad * k);
  // The images' A one after another along each panel's k.
  for (int64_t b = 0; b < count; ++b) pack_a(m, pixels, {a + b * a_step, lda, 1}, packed_a.data() + b * pixels * kMr, k);
  packed_product(m, k_cols, k, packed_a.data(),
                 [&](int64_t j0, float* dst) { pack_shifted_transposed_panel(s, k_cols, count, image_step, j0, dst); },
                 c, ldc, accumulate);
}

void sgemm_shifted_columns(const PackedRows& a, const ShiftedColumns& s, float* c, int64_t ldc, bool accumulate) {
  const int64_t n = s.out_h * s.width;
  if (a.m == 0 || n == 0) return;
  packed_product(a.m, n, a.k, a.data.data(), [&](int64_t j0, float* dst) { pack_shifted_panel(s, a.k, j0, dst); }, c,
                 ldc, accumulate);
}

}  // namespace facet::cpu
