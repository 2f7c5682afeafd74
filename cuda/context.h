#pragma once
// Per-device state that the kernels share (CUDA sources only): one stream per device, one cuBLAS
// handle per device bound to that stream, both created on first use; a guard that makes a
// device current for the scope of a kernel call; and the launch shape of grid-stride loops.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace facet::cuda {

// Device indices run below this (the per-device tables are this long).
inline constexpr int kMaxDevices = 64;

cudaStream_t stream(int device);
cublasHandle_t cublas(int device);
// Whether the stream of `device` exists yet (never creates it).
bool stream_ready(int device);
// facet::Error naming `op` unless `device` is an index below device_count(): for the entry points
// that name a device by index (tensors reach the kernels already checked).
void check_device_index(const char* op, int device);
// Waits for the stream of `device` (the current device), then settles the queued index checks
// (cuda/index_checks.cu): a failed one is thrown here.
void wait_for_stream(int device);

class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

inline constexpr int kBlock = 256;

// Enough blocks to fill the device for a grid-stride loop over n items, never more than needed.
inline unsigned grid_for(int64_t n, int block = kBlock) {
  const int64_t blocks = (n + block - 1) / block;
  constexpr int64_t kMaxBlocks = 132 * 32;  // H200: 132 SMs, a few waves each
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

}  // namespace facet::cuda
