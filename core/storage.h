#pragma once
#include <cstddef>

#include "core/device.h"

namespace facet {

// A block of bytes on one device. Tensors share it through shared_ptr; views never copy it.
class Storage {
 public:
  // Owning: `bytes` on `device` from its caching allocator; `pinned` asks for page-locked host
  // memory (CPU only), from which copies to a GPU run asynchronously.
  Storage(size_t bytes, Device device, bool pinned = false);
  // Non-owning: wraps memory the caller keeps alive (from_blob).
  Storage(void* data, size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool pinned() const { return pinned_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  bool owning_ = false;
  bool pinned_ = false;
};

}  // namespace facet
