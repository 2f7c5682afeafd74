// Batched matrix product: float32 through cpu/gemm_f32's AVX-512 kernel where the CPU has it
// (threads take blocks of C's rows, or of its columns when there are few rows), otherwise and
// for float64 through OpenBLAS sgemm / dgemm. Row-major operands whose column stride is 1 go in as
// they are; those whose row stride is 1 (a transposed view) go in transposed, so a.t() never
// costs a copy. Why not OpenBLAS for float32: see cpu/gemm_f32.h (its Prescott kernels on this
// VM, and its own spinning threads beside OpenMP's). Floor: 2*m*n*k flops per batch entry.
#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/gemm_f32.h"

namespace facet::cpu {

namespace {

struct BlasOperand {
  CBLAS_TRANSPOSE trans;
  int ld;
};

// The front door guarantees one of the two strides is 1 (with a leading dimension that fits).
BlasOperand blas_operand(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 && row_stride >= std::max<int64_t>(cols, 1)) return {CblasNoTrans, static_cast<int>(row_stride)};
  (void)rows;
  return {CblasTrans, static_cast<int>(col_stride)};
}

// C = A B on the AVX-512 kernel, each thread a block of C: rows in multiples of the kernel's 8
// when there are enough of them, else columns in multiples of its 32. Each C element is one
// thread's dot product in k order, so the result does not depend on the thread count.
void threaded_sgemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc) {
  const bool by_rows = m >= 64 || m >= n;
  const int64_t unit = by_rows ? 8 : 32, units = ((by_rows ? m : n) + unit - 1) / unit;
#pragma omp parallel if (units > 1 && m * n * k >= (int64_t{1} << 18))
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = units * t / threads * unit, end = std::min(units * (t + 1) / threads * unit, by_rows ? m : n);
    if (first < end) {
      if (by_rows)
        sgemm(end - first, n, k, {a.p + first * a.rs, a.rs, a.cs}, b, c + first * ldc, ldc, false);
      else
        sgemm(m, end - first, k, a, {b.p + first * b.cs, b.rs, b.cs}, c + first, ldc, false);
    }
  }
}

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* a, int lda, const float* b,
          int ldb, float* c, int ldc) {
  if (sgemm_has_avx512()) {
    const MatrixView av = ta == CblasNoTrans ? MatrixView{a, lda, 1} : MatrixView{a, 1, lda};
    const MatrixView bv = tb == CblasNoTrans ? MatrixView{b, ldb, 1} : MatrixView{b, 1, ldb};
    return threaded_sgemm(m, n, k, av, bv, c, ldc);
  }
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const double* a, int lda, const double* b,
          int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

}  // namespace

void matmul(const Tensor& a, const Tensor& bm, const Tensor& out) {
  const int64_t nd = out.dim();
  const int64_t m = out.size(-2), n = out.size(-1), k = a.size(-1);
  const BlasOperand oa = blas_operand(m, k, a.stride(-2), a.stride(-1));
  const BlasOperand ob = blas_operand(k, n, bm.stride(-2), bm.stride(-1));
  int64_t batch = 1;
  for (int64_t d = 0; d < nd - 2; ++d) batch *= out.size(d);

  dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a.storage()->data());
    const T* pb = static_cast<const T*>(bm.storage()->data());
    T* po = out.data<T>();
    for (int64_t bi = 0; bi < batch; ++bi) {
      int64_t off_a = a.offset(), off_b = bm.offset(), rem = bi;
      for (int64_t d = nd - 3; d >= 0; --d) {
        const int64_t i = rem % out.size(d);
        rem /= out.size(d);
        off_a += i * a.stride(d);
        off_b += i * bm.stride(d);
      }
      T* c = po + bi * m * n;
      if (k == 0) {  // BLAS leaves C untouched when k = 0; the product of empty sums is 0
        for (int64_t i = 0; i < m * n; ++i) c[i] = T(0);
        continue;
      }
      gemm(oa.trans, ob.trans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), pa + off_a, oa.ld,
           pb + off_b, ob.ld, c, static_cast<int>(std::max<int64_t>(n, 1)));
    }
  });
}

}  // namespace facet::cpu
