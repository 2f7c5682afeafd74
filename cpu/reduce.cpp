// Reductions over the middle dim of a contiguous [outer, n, inner] view; a whole-tensor
// reduction is the case outer = inner = 1. Floor: one read of x. Float sums accumulate in double,
// so the CPU result is a float64 sum (in a fixed order) rounded once; int64 sums are exact.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

namespace {

// int64 sums stay exact in int64 (a double accumulator rounds past 2^53); mean is float only.
template <class T>
using SumOf = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// The sum of n contiguous values as kSumWays interleaved partial sums (p[j] into partial j %
// kSumWays) added in order at the end: independent chains that the compiler vectorizes, where one
// running sum waits out an add's latency per element (6.4 M floats on one thread of a Zen 5: 3.7
// -> 1.0 ms). The order is fixed, so the result depends on the values only.
constexpr int64_t kSumWays = 8;
template <class T>
SumOf<T> sum_contiguous(const T* p, int64_t n) {
  SumOf<T> part[kSumWays] = {};
  int64_t j = 0;
  for (; j + kSumWays <= n; j += kSumWays)
    for (int64_t l = 0; l < kSumWays; ++l) part[l] += static_cast<SumOf<T>>(p[j + l]);
  for (int64_t l = 0; j < n; ++j, ++l) part[l] += static_cast<SumOf<T>>(p[j]);
  SumOf<T> acc = 0;
  for (SumOf<T> v : part) acc += v;
  return acc;
}

// A whole contiguous tensor: chunks of kParallelGrain summed in parallel, the chunks' sums added
// in order. The chunks do not depend on the thread count, so neither does the result.
template <class T>
SumOf<T> sum_chunked(const T* p, int64_t n) {
  const int64_t chunks = (n + kParallelGrain - 1) / kParallelGrain;
  if (chunks <= 1) return sum_contiguous(p, n);  // a loss's mean: no buffer, no threads
  std::vector<SumOf<T>> partial(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c)
    partial[c] = sum_contiguous(p + c * kParallelGrain, std::min(kParallelGrain, n - c * kParallelGrain));
  SumOf<T> acc = 0;
  for (SumOf<T> v : partial) acc += v;
  return acc;
}

// Sum or mean over the middle dim. Lanes strided by inner > 1 (a sum over the batch dim, a bias
// gradient) go kLaneBlock neighbouring lanes side by side, each still in the order j = 0, 1, ...,
// so a vector of partial sums moves along x's rows instead of one lane's chain waiting out each
// add (a bias gradient of [256, 32, 28, 28] over dim 0: about 3 ms of a 9 ms conv2d forward and
// backward on a Zen 5). Contiguous lanes (inner = 1) take sum_contiguous, a single one
// sum_chunked.
constexpr int64_t kLaneBlock = 64;
template <class T, class O>
void sum_typed(bool mean, const T* x, int64_t outer, int64_t n, int64_t inner, O* out) {
  const auto result = [&](SumOf<T> acc) { return static_cast<O>(mean ? acc / static_cast<SumOf<T>>(n) : acc); };
  if (inner == 1) {
    if (outer == 1) out[0] = result(sum_chunked(x, n));
    else for_each_lane(outer, n, 1, [&](int64_t first, int64_t lane) { out[lane] = result(sum_contiguous(x + first, n)); });
    return;
  }
  const int64_t blocks = (inner + kLaneBlock - 1) / kLaneBlock;
#pragma omp parallel for collapse(2) schedule(static) if (outer * blocks > 1 && outer * n * inner >= kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t i0 = b * kLaneBlock, width = std::min(kLaneBlock, inner - i0);
      const T* p = x + o * n * inner + i0;
      SumOf<T> acc[kLaneBlock] = {};
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < width; ++i) acc[i] += static_cast<SumOf<T>>(p[j * inner + i]);
      for (int64_t i = 0; i < width; ++i) out[o * inner + i0 + i] = result(acc[i]);
    }
}

// Max or argmax over the middle dim, a lane at a time. NaN wins, as in PyTorch: the first NaN is
// both the max and the argmax.
template <class T, class O>
void max_typed(bool argmax, const T* x, int64_t outer, int64_t n, int64_t inner, O* out) {
  for_each_lane(outer, n, inner, [&](int64_t first, int64_t lane) {
    const T* p = x + first;
    int64_t best = 0;
    for (int64_t j = 1; j < n && !std::isnan(static_cast<double>(p[best * inner])); ++j) {
      const T v = p[j * inner];
      if (std::isnan(static_cast<double>(v)) || v > p[best * inner]) best = j;
    }
    out[lane] = argmax ? static_cast<O>(best) : static_cast<O>(p[best * inner]);
  });
}

}  // namespace

void reduce(Reduce kind, const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    switch (kind) {
      case Reduce::Sum:
      case Reduce::Mean: return sum_typed(kind == Reduce::Mean, px, outer, n, inner, out.data<T>());
      case Reduce::Max: return max_typed(false, px, outer, n, inner, out.data<T>());
      case Reduce::Argmax: return max_typed(true, px, outer, n, inner, out.data<int64_t>());
    }
  });
}

}  // namespace facet::cpu
