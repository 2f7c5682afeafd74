// Convolution through cuDNN (a build with make USE_CUDNN=1): forward, backward data and backward
// filter with cuDNN's NCHW legacy API. One cuDNN handle per device, bound to facet's stream of that
// device, so cuDNN's kernels are ordered with every other kernel. Each direction's algorithm is
// chosen once per shape by cuDNN's heuristics (cudnnGet*_v7, which runs nothing) and cached; its
// workspace comes from facet's caching allocator for the length of the call. float32 is exact
// FP32 (CUDNN_FMA_MATH) unless cuda::set_allow_tf32(true) lets cuDNN use TF32 tensor cores.
// In a build without cuDNN these entry points are errors that say how to get them.
//
// Floor: the same as the convolution's GEMM (cuda/conv2d_implicit_gemm.cu); cuDNN is the yardstick
// the other algorithms are set beside in bench/cuda_conv.cpp. Not yet run on a GPU.
#include "core/error.h"
#include "cuda/conv.h"

#if FACET_WITH_CUDNN

#include <cudnn.h>

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/device_buffer.cuh"

#define FACET_CUDNN_CHECK(call)                                                               \
  do {                                                                                        \
    const cudnnStatus_t facet_status_ = (call);                                               \
    if (facet_status_ != CUDNN_STATUS_SUCCESS)                                                \
      ::facet::cuda::fail(#call, __FILE__, __LINE__, cudnnGetErrorString(facet_status_));     \
  } while (0)

namespace facet::cuda {

namespace {

cudnnHandle_t handle(int device) {
  static std::once_flag once[kMaxDevices];
  static cudnnHandle_t handles[kMaxDevices] = {};  // never destroyed, as the streams they run on
  std::call_once(once[device], [device] {
    FACET_CUDNN_CHECK(cudnnCreate(&handles[device]));
    FACET_CUDNN_CHECK(cudnnSetStream(handles[device], stream(device)));
  });
  return handles[device];
}

// RAII owners of the three descriptor kinds.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(cudnnDataType_t type, int64_t n, int64_t c, int64_t h, int64_t w) {
    FACET_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    FACET_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, type, static_cast<int>(n), static_cast<int>(c),
                                                 static_cast<int>(h), static_cast<int>(w)));
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(cudnnDataType_t type, int64_t o, int64_t c, int64_t kh, int64_t kw) {
    FACET_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d));
    FACET_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d, type, CUDNN_TENSOR_NCHW, static_cast<int>(o), static_cast<int>(c),
                                                 static_cast<int>(kh), static_cast<int>(kw)));
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};

struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc(const WindowGeometry& g, cudnnDataType_t type) {
    FACET_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
    // Cross-correlation: the weight is not flipped, as in PyTorch and the CPU path.
    FACET_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, static_cast<int>(g.pad_h), static_cast<int>(g.pad_w),
                                                      static_cast<int>(g.stride_h), static_cast<int>(g.stride_w),
                                                      static_cast<int>(g.dilation_h), static_cast<int>(g.dilation_w),
                                                      CUDNN_CROSS_CORRELATION, type));
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

// Everything one convolution call needs: the descriptors of x, weight and y, the convolution, and
// the key of its shape in the algorithm cache.
struct Problem {
  int device;
  bool is_float, exact;  // exact: float32 with TF32 off, so only FMA kernels may run
  cudnnDataType_t type;
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  std::array<int64_t, 16> key;

  Problem(int dev, DType dtype, int64_t n, int64_t out_channels, const WindowGeometry& g)
      : device(dev),
        is_float(dtype == kFloat32),
        exact(is_float && !allow_tf32()),
        type(is_float ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE),
        x(type, n, g.channels, g.height, g.width),
        y(type, n, out_channels, g.out_h, g.out_w),
        w(type, out_channels, g.channels, g.kernel_h, g.kernel_w),
        conv(g, type),
        key{dev,          (is_float ? 1 : 0) + (exact ? 2 : 0), n,          g.channels, g.height,   g.width,
            out_channels, g.kernel_h,                          g.kernel_w, g.stride_h, g.stride_w, g.pad_h,
            g.pad_w,      g.dilation_h,                        g.dilation_w, 0} {
    FACET_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.d, exact ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
  }
  // alpha = 1 and beta = 0 in the data's type (cuDNN reads double scalars for double data).
  const void* one() const { return is_float ? static_cast<const void*>(&kOneF) : &kOneD; }
  const void* zero() const { return is_float ? static_cast<const void*>(&kZeroF) : &kZeroD; }
  static constexpr float kOneF = 1.0f, kZeroF = 0.0f;
  static constexpr double kOneD = 1.0, kZeroD = 0.0;
};

enum Direction { kForward, kBackwardData, kBackwardFilter, kDirections };

// The workspace size is part of the choice: it depends only on the shape, the algorithm and the
// math type, so it is asked once, not again on every call.
struct Choice {
  int algo;
  cudnnMathType_t math;
  size_t workspace_bytes;
};

std::mutex cache_mutex;
std::map<std::array<int64_t, 16>, Choice> cache[kDirections];

// The cached choice for this problem and direction, or, the first time, the first algorithm of
// cuDNN's heuristic ranking that succeeds, keeps float32 exact when asked, and whose workspace the
// allocator can provide. `query` fills a vector of cuDNN perf results; `workspace_size` asks the
// size for an algorithm under the descriptor's current math type.
template <class Perf, class Query, class WorkspaceSize>
Choice choose(Problem& p, Direction direction, Query query, WorkspaceSize workspace_size) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = cache[direction].find(p.key);
    if (it != cache[direction].end()) return it->second;
  }
  const std::vector<Perf> ranked = query();
  for (const Perf& perf : ranked) {
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    const bool tensor_cores = perf.mathType == CUDNN_TENSOR_OP_MATH || perf.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (p.exact && tensor_cores) continue;
    Choice c{static_cast<int>(perf.algo), p.exact ? CUDNN_FMA_MATH : perf.mathType, 0};
    FACET_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv.d, c.math));
    if (workspace_size(c.algo, &c.workspace_bytes) != CUDNN_STATUS_SUCCESS) continue;
    try {
      DeviceBuffer trial(c.workspace_bytes, p.device);  // a workspace the device cannot hold: the next algorithm
    } catch (const Error&) {
      continue;
    }
    std::lock_guard<std::mutex> lock(cache_mutex);
    cache[direction][p.key] = c;
    return c;
  }
  throw Error("conv2d (cudnn)", "an algorithm for this shape among cuDNN's heuristics",
              std::to_string(ranked.size()) + " candidates, none usable" + (p.exact ? " with exact FP32 (FMA) math" : ""));
}

int device_of(const Tensor& t) { return t.device().index; }

}  // namespace

void cudnn_conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                          const Tensor& out) {
  const int device = device_of(out);
  DeviceGuard guard(device);
  cudnnHandle_t h = handle(device);
  Problem p(device, x.dtype(), x.size(0), weight.size(0), g);
  const Choice c = choose<cudnnConvolutionFwdAlgoPerf_t>(
      p, kForward,
      [&] {
        int count = 0;
        FACET_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count));
        std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(count > 0 ? count : 1);
        int returned = 0;
        FACET_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x.d, p.w.d, p.conv.d, p.y.d, count, &returned,
                                                                 perf.data()));
        perf.resize(returned);
        return perf;
      },
      [&](int algo, size_t* bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(h, p.x.d, p.w.d, p.conv.d, p.y.d,
                                                       static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
      });
  const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(c.algo);
  FACET_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv.d, c.math));
  const size_t bytes = c.workspace_bytes;
  DeviceBuffer workspace(bytes, device);
  FACET_CUDNN_CHECK(cudnnConvolutionForward(h, p.one(), p.x.d, x.raw_data(), p.w.d, weight.raw_data(), p.conv.d, algo,
                                            workspace.as<void>(), bytes, p.zero(), p.y.d, out.raw_data()));
  if (bias.defined()) {
    // y += bias broadcast over [N, ., OH, OW]: cuDNN's add reads beta = 1 as "keep y".
    TensorDesc b(p.type, 1, weight.size(0), 1, 1);
    FACET_CUDNN_CHECK(cudnnAddTensor(h, p.one(), b.d, bias.raw_data(), p.one(), p.y.d, out.raw_data()));
  }
}

void cudnn_conv2d_backward_data(const Tensor& grad, const Tensor& weight, const WindowGeometry& g,
                                const Tensor& grad_x) {
  const int device = device_of(grad_x);
  DeviceGuard guard(device);
  cudnnHandle_t h = handle(device);
  Problem p(device, grad.dtype(), grad.size(0), weight.size(0), g);
  const Choice c = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      p, kBackwardData,
      [&] {
        int count = 0;
        FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &count));
        std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(count > 0 ? count : 1);
        int returned = 0;
        FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w.d, p.y.d, p.conv.d, p.x.d, count,
                                                                      &returned, perf.data()));
        perf.resize(returned);
        return perf;
      },
      [&](int algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w.d, p.y.d, p.conv.d, p.x.d,
                                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
      });
  const auto algo = static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo);
  FACET_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv.d, c.math));
  const size_t bytes = c.workspace_bytes;
  DeviceBuffer workspace(bytes, device);
  FACET_CUDNN_CHECK(cudnnConvolutionBackwardData(h, p.one(), p.w.d, weight.raw_data(), p.y.d, grad.raw_data(), p.conv.d,
                                                 algo, workspace.as<void>(), bytes, p.zero(), p.x.d, grad_x.raw_data()));
}

void cudnn_conv2d_backward_filter(const Tensor& grad, const Tensor& x, const WindowGeometry& g,
                                  const Tensor& grad_weight) {
  const int device = device_of(grad_weight);
  DeviceGuard guard(device);
  cudnnHandle_t h = handle(device);
  Problem p(device, grad.dtype(), grad.size(0), grad_weight.size(0), g);
  const Choice c = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      p, kBackwardFilter,
      [&] {
        int count = 0;
        FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &count));
        std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(count > 0 ? count : 1);
        int returned = 0;
        FACET_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x.d, p.y.d, p.conv.d, p.w.d, count,
                                                                        &returned, perf.data()));
        perf.resize(returned);
        return perf;
      },
      [&](int algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x.d, p.y.d, p.conv.d, p.w.d,
                                                              static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
      });
  const auto algo = static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo);
  FACET_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv.d, c.math));
  const size_t bytes = c.workspace_bytes;
  DeviceBuffer workspace(bytes, device);
  FACET_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, p.one(), p.x.d, x.raw_data(), p.y.d, grad.raw_data(), p.conv.d,
                                                   algo, workspace.as<void>(), bytes, p.zero(), p.w.d,
                                                   grad_weight.raw_data()));
}

}  // namespace facet::cuda

#else  // a CUDA build without cuDNN: the front door refuses the cudnn algorithm before these

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace facet::cuda {

namespace {
[[noreturn]] void no_cudnn(const char* what) {
  throw Error(what, "a build with cuDNN (rebuild with make USE_CUDNN=1)", "a build without cuDNN");
}
}  // namespace

void cudnn_conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const WindowGeometry& g,
                          const Tensor& out) {
  no_cudnn("conv2d (cudnn)");
}
void cudnn_conv2d_backward_data(const Tensor& grad, const Tensor& weight, const WindowGeometry& g,
                                const Tensor& grad_x) {
  no_cudnn("conv2d backward (cudnn)");
}
void cudnn_conv2d_backward_filter(const Tensor& grad, const Tensor& x, const WindowGeometry& g,
                                  const Tensor& grad_weight) {
  no_cudnn("conv2d backward (cudnn)");
}

}  // namespace facet::cuda

#endif
