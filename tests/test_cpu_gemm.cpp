// The CPU's float32 GEMM (cpu/gemm_f32.h), both paths (the AVX-512 kernels and cblas_sgemm), against
// float64 sums: every operand layout the convolution uses, edge tiles (m, n not multiples of the
// tile, k not a multiple of 16), accumulate on and off, and sgemm_nt's sum over several pairs.
#include <cmath>
#include <vector>

#include "cpu/gemm_f32.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

std::vector<float> floats(int64_t count, Generator& gen) { return randn({count}, kFloat32, &gen).to_vector<float>(); }

// The largest |got - want| over the largest |want|.
double max_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(got[i] - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return err / scale;
}

struct GemmShape {
  int64_t m, n, k;
};
const GemmShape kShapes[] = {{1, 1, 1}, {5, 7, 19}, {9, 33, 40}, {8, 32, 16}, {17, 65, 100}, {32, 288, 196}};

// Runs body() with the AVX-512 kernels (where the CPU has them) and then with cblas_sgemm.
template <class Body>
void on_both_paths(Body&& body) {
  for (bool avx512 : {true, false}) {
    cpu::set_sgemm_avx512(avx512);
    INFO("avx512 " << cpu::sgemm_has_avx512());
    body();
  }
  cpu::set_sgemm_avx512(true);
}

}  // namespace

TEST_CASE("cpu sgemm: A B for row-major and transposed operands, with and without accumulation") {
  on_both_paths([] {
    Generator gen(7);
    for (const GemmShape& s : kShapes) {
      INFO("m " << s.m << " n " << s.n << " k " << s.k);
      const std::vector<float> a = floats(s.m * s.k, gen), b = floats(s.k * s.n, gen), c0 = floats(s.m * s.n, gen);
      for (bool a_t : {false, true})
        for (bool b_t : {false, true})
          for (bool accumulate : {false, true}) {
            INFO("a transposed " << a_t << ", b transposed " << b_t << ", accumulate " << accumulate);
            // A(i, p) at a[i * k + p], or at a[p * m + i] when transposed; B likewise.
            const cpu::MatrixView av = a_t ? cpu::MatrixView{a.data(), 1, s.m} : cpu::MatrixView{a.data(), s.k, 1};
            const cpu::MatrixView bv = b_t ? cpu::MatrixView{b.data(), 1, s.k} : cpu::MatrixView{b.data(), s.n, 1};
            std::vector<double> want(s.m * s.n);
            for (int64_t i = 0; i < s.m; ++i)
              for (int64_t j = 0; j < s.n; ++j) {
                double sum = accumulate ? c0[i * s.n + j] : 0.0;
                for (int64_t p = 0; p < s.k; ++p)
                  sum += static_cast<double>(av.p[i * av.rs + p * av.cs]) * bv.p[p * bv.rs + j * bv.cs];
                want[i * s.n + j] = sum;
              }
            std::vector<float> c = c0;
            cpu::sgemm(s.m, s.n, s.k, av, bv, c.data(), s.n, accumulate);
            CHECK(max_error(c, want) < 2e-6 * std::sqrt(static_cast<double>(s.k)) + 1e-6);
          }
    }
  });
}

TEST_CASE("cpu sgemm_nt: the sum over pairs of A_b B_b^T, rows contiguous along k") {
  on_both_paths([] {
    Generator gen(11);
    for (const GemmShape& s : kShapes)
      for (int64_t count : {int64_t(1), int64_t(3)})
        for (bool accumulate : {false, true}) {
          INFO("m " << s.m << " n " << s.n << " k " << s.k << " count " << count << " accumulate " << accumulate);
          // Rows padded past k (lda = k + 3) and pairs spaced apart, as the convolution lays them out.
          const int64_t lda = s.k + 3, ldb = s.k + 1, a_step = s.m * lda + 5, b_step = s.n * ldb + 2;
          const std::vector<float> a = floats(count * a_step, gen), b = floats(count * b_step, gen);
          const std::vector<float> c0 = floats(s.m * s.n, gen);
          std::vector<double> want(s.m * s.n);
          for (int64_t i = 0; i < s.m; ++i)
            for (int64_t j = 0; j < s.n; ++j) {
              double sum = accumulate ? c0[i * s.n + j] : 0.0;
              for (int64_t q = 0; q < count; ++q)
                for (int64_t p = 0; p < s.k; ++p)
                  sum += static_cast<double>(a[q * a_step + i * lda + p]) * b[q * b_step + j * ldb + p];
              want[i * s.n + j] = sum;
            }
          std::vector<float> c = c0;
          cpu::sgemm_nt(s.m, s.n, s.k, count, a.data(), lda, a_step, b.data(), ldb, b_step, c.data(), s.n, accumulate);
          CHECK(max_error(c, want) < 2e-6 * std::sqrt(static_cast<double>(count * s.k)) + 1e-6);
        }
  });
}

TEST_CASE("cpu matmul float32: threaded blocks of rows or columns, transposed views, against float64") {
  on_both_paths([] {
    Generator gen(13);
    // rows split (m >= 64), columns split (few rows, many columns), and one too small to thread
    for (const GemmShape& s : {GemmShape{200, 70, 30}, GemmShape{3, 5000, 40}, GemmShape{4, 5, 6}}) {
      INFO("m " << s.m << " n " << s.n << " k " << s.k);
      const Tensor a = randn({s.m, s.k}, kFloat64, &gen), b = randn({s.k, s.n}, kFloat64, &gen);
      const Tensor want = ops::matmul(a, b);
      const Tensor a32 = ops::cast(a, kFloat32), b32 = ops::cast(b, kFloat32);
      CHECK(tests::rel_error(ops::matmul(a32, b32), want.to_vector<double>()) < 1e-6);
      // the same operands stored transposed, passed as .t() views
      const Tensor at = ops::contiguous(a32.t()), bt = ops::contiguous(b32.t());
      CHECK(tests::rel_error(ops::matmul(at.t(), bt.t()), want.to_vector<double>()) < 1e-6);
    }
  });
}
