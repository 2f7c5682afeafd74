// Elementwise unary, binary and where on strided, broadcast inputs, plus copy (with dtype
// conversion) and fill. Launch: grid-stride loops of kBlock threads. Contiguous, 16-byte-aligned
// operands take 16-byte vector loads and stores; others index through cuda/offsets.cuh.
// Floor: one read per input element and one write per output element at HBM bandwidth
// (H200: 4.8 TB/s). Measured by bench/cuda_kernels (GB/s beside a device-to-device copy).
#include <cstdint>
#include <type_traits>

#include "core/dispatch.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/cuda.h"
#include "cuda/offsets.cuh"

namespace facet::cuda {

namespace {

template <class T>
struct alignas(16) Pack {
  static constexpr int kSize = 16 / sizeof(T);
  T v[kSize];
};

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <class T>
const T* base_ptr(const Tensor& t) { return static_cast<const T*>(t.storage()->data()); }
template <class T>
T* base_ptr_mut(const Tensor& t) { return static_cast<T*>(t.storage()->data()); }

// ---- unary ----
template <UnaryOp OP, class T>
__global__ void unary_contiguous(int64_t n, const T* __restrict__ x, T* __restrict__ out, UnaryArgs<T> args,
                                 bool vectorized) {
  int64_t done = 0;
  if (vectorized) {
    using P = Pack<T>;
    const int64_t packs = n / P::kSize;
    const P* xp = reinterpret_cast<const P*>(x);
    P* op = reinterpret_cast<P*>(out);
    FACET_GRID_STRIDE_LOOP(i, packs) {
      const P a = xp[i];
      P r;
#pragma unroll
      for (int k = 0; k < P::kSize; ++k) r.v[k] = unary_fn<OP>(a.v[k], args);
      op[i] = r;
    }
    done = packs * P::kSize;
  }
  FACET_GRID_STRIDE_LOOP(i, n - done) out[done + i] = unary_fn<OP>(x[done + i], args);
}

template <UnaryOp OP, class T>
__global__ void unary_strided(Offsets<2> o, int64_t n, const T* x, T* out, UnaryArgs<T> args) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    int64_t off[2];
    o.at(i, off);
    out[off[0]] = unary_fn<OP>(x[off[1]], args);
  }
}

template <UnaryOp OP, class T>
void launch_unary(const Tensor& x, double a, double b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const UnaryArgs<T> args{static_cast<T>(a), static_cast<T>(b)};
  const Offsets<2> o = make_offsets<2>(out.shape(), {out.strides(), x.strides()}, {out.offset(), x.offset()});
  cudaStream_t s = stream(out.device().index);
  if (all_contiguous(o)) {
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    unary_contiguous<OP, T><<<grid_for(n), kBlock, 0, s>>>(n, px, po, args, aligned16(px) && aligned16(po));
  } else {
    unary_strided<OP, T><<<grid_for(n), kBlock, 0, s>>>(o, n, base_ptr<T>(x), base_ptr_mut<T>(out), args);
  }
  FACET_CUDA_CHECK_LAUNCH();
}

// ---- binary ----
// Which operand of a contiguous binary op is a single element broadcast over the other (a tensor
// op a scalar: ops::binary(op, x, 0.5) expands a one-element tensor), read once per thread.
enum class OneElement { None, A, B };

template <BinaryOp OP, class T, OneElement ONE>
__global__ void binary_contiguous(int64_t n, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                                  bool vectorized) {
  const T a0 = ONE == OneElement::A ? *a : T(0), b0 = ONE == OneElement::B ? *b : T(0);
  const auto a_at = [&](int64_t i) { return ONE == OneElement::A ? a0 : a[i]; };
  const auto b_at = [&](int64_t i) { return ONE == OneElement::B ? b0 : b[i]; };
  int64_t done = 0;
  if (vectorized) {
    using P = Pack<T>;
    const int64_t packs = n / P::kSize;
    const P* ap = reinterpret_cast<const P*>(a);
    const P* bp = reinterpret_cast<const P*>(b);
    P* op = reinterpret_cast<P*>(out);
    FACET_GRID_STRIDE_LOOP(i, packs) {
      P x{}, y{}, r;  // the one-element side's pack stays unread
      if constexpr (ONE != OneElement::A) x = ap[i];
      if constexpr (ONE != OneElement::B) y = bp[i];
#pragma unroll
      for (int k = 0; k < P::kSize; ++k)
        r.v[k] = binary_fn<OP>(ONE == OneElement::A ? a0 : x.v[k], ONE == OneElement::B ? b0 : y.v[k]);
      op[i] = r;
    }
    done = packs * P::kSize;
  }
  FACET_GRID_STRIDE_LOOP(i, n - done) out[done + i] = binary_fn<OP>(a_at(done + i), b_at(done + i));
}

template <BinaryOp OP, class T>
__global__ void binary_strided(Offsets<3> o, int64_t n, const T* a, const T* b, T* out) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    int64_t off[3];
    o.at(i, off);
    out[off[0]] = binary_fn<OP>(a[off[1]], b[off[2]]);
  }
}

template <BinaryOp OP, class T>
void launch_binary(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Offsets<3> o = make_offsets<3>(out.shape(), {out.strides(), a.strides(), b.strides()},
                                       {out.offset(), a.offset(), b.offset()});
  cudaStream_t s = stream(out.device().index);
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  // Only the operands read as runs need 16-byte alignment for the vector path.
  if (all_contiguous(o)) {
    binary_contiguous<OP, T, OneElement::None><<<grid_for(n), kBlock, 0, s>>>(
        n, pa, pb, po, aligned16(pa) && aligned16(pb) && aligned16(po));
  } else if (n > 1 && one_run_with_strides<3>(o, {1, 1, 0})) {
    binary_contiguous<OP, T, OneElement::B><<<grid_for(n), kBlock, 0, s>>>(n, pa, pb, po,
                                                                           aligned16(pa) && aligned16(po));
  } else if (n > 1 && one_run_with_strides<3>(o, {1, 0, 1})) {
    binary_contiguous<OP, T, OneElement::A><<<grid_for(n), kBlock, 0, s>>>(n, pa, pb, po,
                                                                           aligned16(pb) && aligned16(po));
  } else {
    binary_strided<OP, T><<<grid_for(n), kBlock, 0, s>>>(o, n, base_ptr<T>(a), base_ptr<T>(b), base_ptr_mut<T>(out));
  }
  FACET_CUDA_CHECK_LAUNCH();
}

// ---- where, copy, fill ----
template <class C, class T>
__global__ void where_strided(Offsets<4> o, int64_t n, const C* cond, const T* a, const T* b, T* out) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    int64_t off[4];
    o.at(i, off);
    out[off[0]] = cond[off[1]] != C(0) ? a[off[2]] : b[off[3]];
  }
}

template <class D, class S>
__global__ void copy_strided(Offsets<2> o, int64_t n, D* dst, const S* src) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    int64_t off[2];
    o.at(i, off);
    dst[off[0]] = static_cast<D>(src[off[1]]);
  }
}

template <class T>
__global__ void fill_strided(Offsets<1> o, int64_t n, T* dst, T value) {
  FACET_GRID_STRIDE_LOOP(i, n) {
    int64_t off[1];
    o.at(i, off);
    dst[off[0]] = value;
  }
}

}  // namespace

void unary(UnaryOp op, const Tensor& x, double a, double b, const Tensor& out) {
  DeviceGuard guard(out.device().index);
  dispatch_floating(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    visit_unary(op, [&](auto op_tag) { launch_unary<decltype(op_tag)::value, T>(x, a, b, out); });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  DeviceGuard guard(out.device().index);
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    visit_binary(op, [&](auto op_tag) {
      constexpr BinaryOp kOp = decltype(op_tag)::value;
      // The front door keeps int64 away from div and pow; those bodies are never built for it.
      if constexpr (std::is_integral_v<T> && (kOp == BinaryOp::Div || kOp == BinaryOp::Pow)) return;
      else launch_binary<kOp, T>(a, b, out);
    });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device().index);
  const Offsets<4> o = make_offsets<4>(out.shape(), {out.strides(), cond.strides(), a.strides(), b.strides()},
                                       {out.offset(), cond.offset(), a.offset(), b.offset()});
  dispatch_floating(a.dtype(), "where", [&](auto tag) {
    using T = decltype(tag);
    dispatch_all(cond.dtype(), [&](auto cond_tag) {
      using C = decltype(cond_tag);
      where_strided<C, T><<<grid_for(n), kBlock, 0, stream(out.device().index)>>>(
          o, n, base_ptr<C>(cond), base_ptr<T>(a), base_ptr<T>(b), base_ptr_mut<T>(out));
      FACET_CUDA_CHECK_LAUNCH();
    });
  });
}

void copy(const Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  DeviceGuard guard(dst.device().index);
  cudaStream_t s = stream(dst.device().index);
  const Offsets<2> o = make_offsets<2>(dst.shape(), {dst.strides(), src.strides()}, {dst.offset(), src.offset()});
  if (dst.dtype() == src.dtype() && all_contiguous(o)) {
    FACET_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n * dtype_size(dst.dtype()),
                                     cudaMemcpyDeviceToDevice, s));
    return;
  }
  dispatch_all(dst.dtype(), [&](auto dst_tag) {
    using D = decltype(dst_tag);
    dispatch_all(src.dtype(), [&](auto src_tag) {
      using S = decltype(src_tag);
      copy_strided<D, S><<<grid_for(n), kBlock, 0, s>>>(o, n, base_ptr_mut<D>(dst), base_ptr<S>(src));
      FACET_CUDA_CHECK_LAUNCH();
    });
  });
}

void fill(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  DeviceGuard guard(dst.device().index);
  const Offsets<1> o = make_offsets<1>(dst.shape(), {dst.strides()}, {dst.offset()});
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_strided<T><<<grid_for(n), kBlock, 0, stream(dst.device().index)>>>(o, n, base_ptr_mut<T>(dst),
                                                                               static_cast<T>(value));
    FACET_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace facet::cuda
