#pragma once
// Scratch device memory for the length of a kernel call, from the caching allocator. Releasing
// it right after the launches is safe: the next user of the block runs later on the same stream.
#include <cstddef>

#include "cuda/runtime.h"

namespace facet::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer(size_t bytes, int device) : ptr_(device_allocate(bytes, device)), bytes_(bytes), device_(device) {}
  ~DeviceBuffer() { device_release(ptr_, bytes_, device_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_;
  size_t bytes_;
  int device_;
};

}  // namespace facet::cuda
