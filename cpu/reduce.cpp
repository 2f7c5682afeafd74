// Reductions over the middle dim of a contiguous [outer, n, inner] view; a whole-tensor
// reduction is the case outer = inner = 1. Floor: one read of x. Float sums accumulate in double,
// so the CPU result is the float64 reference rounded once; int64 sums accumulate exactly in int64.
#include <cmath>
#include <type_traits>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

namespace {

template <class T, class O>
void reduce_typed(Reduce kind, const T* x, int64_t outer, int64_t n, int64_t inner, O* out) {
  for_each_lane(outer, n, inner, [&](int64_t first, int64_t lane) {
    const T* p = x + first;
    if (kind == Reduce::Sum || kind == Reduce::Mean) {
      // int64 sums stay exact in int64 (a double accumulator rounds past 2^53); mean is float only.
      using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
      Acc acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += static_cast<Acc>(p[j * inner]);
      if (kind == Reduce::Mean) acc /= static_cast<Acc>(n);
      out[lane] = static_cast<O>(acc);
    } else {
      // NaN wins, as in PyTorch: the first NaN is both the max and the argmax.
      int64_t best = 0;
      for (int64_t j = 1; j < n && !std::isnan(static_cast<double>(p[best * inner])); ++j) {
        const T v = p[j * inner];
        if (std::isnan(static_cast<double>(v)) || v > p[best * inner]) best = j;
      }
      out[lane] = kind == Reduce::Max ? static_cast<O>(p[best * inner]) : static_cast<O>(best);
    }
  });
}

}  // namespace

void reduce(Reduce kind, const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    if (kind == Reduce::Argmax)
      reduce_typed(kind, px, outer, n, inner, out.data<int64_t>());
    else
      reduce_typed(kind, px, outer, n, inner, out.data<T>());
  });
}

}  // namespace facet::cpu
