// Strided copy with dtype conversion, and fill: the bodies of contiguous(), clone(), to(dtype)
// and copy_(). Floor: one read and one write per element.
#include <array>

#include "core/dispatch.h"
#include "cpu/cpu.h"
#include "cpu/strided.h"

namespace facet::cpu {

void copy(const Tensor& dst, const Tensor& src) {
  dispatch_all(dst.dtype(), [&](auto dst_tag) {
    using D = decltype(dst_tag);
    dispatch_all(src.dtype(), [&](auto src_tag) {
      using S = decltype(src_tag);
      D* pd = static_cast<D*>(dst.storage()->data());
      const S* ps = static_cast<const S*>(src.storage()->data());
      for_each_row<2>(dst.shape(), {dst.strides(), src.strides()}, {dst.offset(), src.offset()},
                      [&](const std::array<int64_t, 2>& off, int64_t len, const std::array<int64_t, 2>& step) {
                        D* d = pd + off[0];
                        const S* s = ps + off[1];
                        if (step[0] == 1 && step[1] == 1) {
                          for (int64_t i = 0; i < len; ++i) d[i] = static_cast<D>(s[i]);
                        } else {
                          for (int64_t i = 0; i < len; ++i) d[i * step[0]] = static_cast<D>(s[i * step[1]]);
                        }
                      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(dst.storage()->data());
    const T v = static_cast<T>(value);
    for_each_row<1>(dst.shape(), {dst.strides()}, {dst.offset()},
                    [&](const std::array<int64_t, 1>& off, int64_t len, const std::array<int64_t, 1>& step) {
                      for (int64_t i = 0; i < len; ++i) p[off[0] + i * step[0]] = v;
                    });
  });
}

}  // namespace facet::cpu
