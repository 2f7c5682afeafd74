// Device discovery, streams, cuBLAS handles, transfers and the TF32 switch. Discovery is safe on
// machines with the toolkit but no driver or no GPU: the runtime then reports an error code, which
// means "no devices" here, never an abort at start-up.
#include <atomic>
#include <mutex>
#include <string>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/graph.h"
#include "cuda/graph_hooks.h"
#include "cuda/runtime.h"
// The shared per-element headers are compiled by nvcc here too, so CI catches host-only code in them.
#include "core/elementwise_math.h"
#include "core/philox.h"

namespace facet::cuda {

namespace {

struct DeviceState {
  std::once_flag once;
  std::atomic<bool> ready{false};  // set once stream and handle exist
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
};

DeviceState& state(int device) {
  static DeviceState states[kMaxDevices];
  return states[device];
}

void init(int device) {
  DeviceState& s = state(device);
  std::call_once(s.once, [&] {
    DeviceGuard guard(device);
    FACET_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    FACET_CUBLAS_CHECK(cublasCreate(&s.cublas));
    FACET_CUBLAS_CHECK(cublasSetStream(s.cublas, s.stream));
    s.ready = true;
  });
}

std::atomic<bool> tf32_allowed{false};

}  // namespace

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the error so later calls start clean
      return 0;
    }
    return n < kMaxDevices ? n : kMaxDevices;
  }();
  return count;
}

void check_device_index(const char* op, int device) {
  FACET_CHECK(device >= 0 && device < device_count(), op,
              "a device index in [0, " + std::to_string(device_count()) + ")", std::to_string(device));
}

cudaStream_t stream(int device) {
  init(device);
  return state(device).stream;
}

bool stream_ready(int device) { return device >= 0 && device < kMaxDevices && state(device).ready; }

cublasHandle_t cublas(int device) {
  init(device);
  return state(device).cublas;
}

DeviceGuard::DeviceGuard(int device) {
  FACET_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) FACET_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
  int current = 0;
  if (cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
  cudaGetLastError();  // a destructor cannot throw: clear any error so no later check misreports it
}

void copy_bytes(void* dst, const void* src, size_t bytes, CopyKind kind, int device, bool source_pinned) {
  if (bytes == 0) return;
  // A graph replays device work only: the host side of a copy would be read or written at capture.
  if (kind != CopyKind::DeviceToDevice && is_capturing(device))
    refuse_in_capture(device, kind == CopyKind::DeviceToHost ? "a copy to host memory" : "a copy from host memory");
  DeviceGuard guard(device);
  // cudaMemcpyDefault: unified addressing tells the runtime where each pointer lives, which also
  // covers copies between two devices.
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream(device)));
  const bool wait = kind == CopyKind::DeviceToHost || (kind == CopyKind::HostToDevice && !source_pinned);
  if (wait) wait_for_stream(device);
}

void synchronize(int device) {
  DeviceGuard guard(device);
  wait_for_stream(device);
}

void set_allow_tf32(bool allow) { tf32_allowed = allow; }
bool allow_tf32() { return tf32_allowed; }

}  // namespace facet::cuda
