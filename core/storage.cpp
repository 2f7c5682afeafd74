#include "core/storage.h"

#include <string>

#include "core/error.h"
#include "core/host_allocator.h"

namespace facet {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device), owning_(true) {
  FACET_CHECK(device.is_cpu(), "empty", "a CPU device (CUDA memory arrives with the CUDA backend)",
              "device " + device.str());
  data_ = HostAllocator::allocate(bytes);
}

Storage::Storage(void* data, size_t bytes, Device device)
    : data_(data), bytes_(bytes), device_(device), owning_(false) {}

Storage::~Storage() {
  if (owning_) HostAllocator::release(data_, bytes_);
}

}  // namespace facet
