// Elementwise unary, binary and where on strided, broadcast inputs. The per-element math is
// core/elementwise_math.h, shared with the CUDA kernels. Floor: one read per input and one write
// per output element; a contiguous row is a plain loop, marked `omp simd` because -O2's cheap
// vectorizer leaves it scalar (an output is fresh or the input itself, element for element: no
// overlap that vectors could reorder). Scalar, relu's
// x > 0 ? x : 0 was a branch that random signs mispredict half the time: 7x the time of an add.
#include <array>
#include <type_traits>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

void unary(UnaryOp op, const Tensor& x, double a, double b, const Tensor& out) {
  dispatch_floating(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.storage()->data());
    T* po = static_cast<T*>(out.storage()->data());
    const UnaryArgs<T> args{static_cast<T>(a), static_cast<T>(b)};
    visit_unary(op, [&](auto op_tag) {
      constexpr UnaryOp kOp = decltype(op_tag)::value;
      for_each_row<2>(out.shape(), {out.strides(), x.strides()}, {out.offset(), x.offset()},
                      [&](const std::array<int64_t, 2>& off, int64_t len, const std::array<int64_t, 2>& step) {
                        T* o = po + off[0];
                        const T* in = px + off[1];
                        if (step[0] == 1 && step[1] == 1) {
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = unary_fn<kOp>(in[i], args);
                        } else {
                          for (int64_t i = 0; i < len; ++i) o[i * step[0]] = unary_fn<kOp>(in[i * step[1]], args);
                        }
                      });
    });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a.storage()->data());
    const T* pb = static_cast<const T*>(b.storage()->data());
    T* po = static_cast<T*>(out.storage()->data());
    visit_binary(op, [&](auto op_tag) {
      constexpr BinaryOp kOp = decltype(op_tag)::value;
      // The front door keeps int64 away from div and pow; those bodies are never built for it.
      if constexpr (std::is_integral_v<T> && (kOp == BinaryOp::Div || kOp == BinaryOp::Pow)) return;
      else
      for_each_row<3>(out.shape(), {out.strides(), a.strides(), b.strides()},
                      {out.offset(), a.offset(), b.offset()},
                      [&](const std::array<int64_t, 3>& off, int64_t len, const std::array<int64_t, 3>& step) {
                        T* o = po + off[0];
                        const T* x = pa + off[1];
                        const T* y = pb + off[2];
                        if (step[0] == 1 && step[1] == 1 && step[2] == 1) {
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = binary_fn<kOp>(x[i], y[i]);
                        } else if (step[0] == 1 && step[1] == 1 && step[2] == 0) {
                          const T yv = *y;  // a broadcast scalar or row: hoisted out of the loop
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = binary_fn<kOp>(x[i], yv);
                        } else {
                          for (int64_t i = 0; i < len; ++i)
                            o[i * step[0]] = binary_fn<kOp>(x[i * step[1]], y[i * step[2]]);
                        }
                      });
    });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_floating(a.dtype(), "where", [&](auto tag) {
    using T = decltype(tag);
    dispatch_all(cond.dtype(), [&](auto cond_tag) {
      using C = decltype(cond_tag);
      const C* pc = static_cast<const C*>(cond.storage()->data());
      const T* pa = static_cast<const T*>(a.storage()->data());
      const T* pb = static_cast<const T*>(b.storage()->data());
      T* po = static_cast<T*>(out.storage()->data());
      for_each_row<4>(out.shape(), {out.strides(), cond.strides(), a.strides(), b.strides()},
                      {out.offset(), cond.offset(), a.offset(), b.offset()},
                      [&](const std::array<int64_t, 4>& off, int64_t len, const std::array<int64_t, 4>& step) {
                        for (int64_t i = 0; i < len; ++i)
                          po[off[0] + i * step[0]] = pc[off[1] + i * step[1]] != C(0) ? pa[off[2] + i * step[2]]
                                                                                       : pb[off[3] + i * step[3]];
                      });
    });
  });
}

}  // namespace facet::cpu
