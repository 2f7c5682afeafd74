#include "core/storage.h"

#include "core/error.h"
#include "core/host_allocator.h"
#include "cuda/runtime.h"

namespace facet {

Storage::Storage(size_t bytes, Device device, bool pinned)
    : bytes_(bytes), device_(device), owning_(true), pinned_(pinned) {
  FACET_CHECK(!pinned || device.is_cpu(), "pin_memory", "a CPU tensor", "device " + device.str());
  if (device.is_cuda()) data_ = cuda::device_allocate(bytes, device.index);
  else if (pinned) data_ = cuda::pinned_allocate(bytes);
  else data_ = HostAllocator::allocate(bytes);
}

Storage::Storage(void* data, size_t bytes, Device device)
    : data_(data), bytes_(bytes), device_(device), owning_(false) {}

Storage::~Storage() {
  if (!owning_) return;
  if (device_.is_cuda()) cuda::device_release(data_, bytes_, device_.index);
  else if (pinned_) cuda::pinned_release(data_);
  else HostAllocator::release(data_, bytes_);
}

}  // namespace facet
