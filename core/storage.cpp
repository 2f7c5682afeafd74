#include "core/storage.h"

#include <cstdlib>
#include <new>
#include <string>

#include "core/error.h"

namespace facet {

namespace {
// 64-byte alignment: whole cache lines, and enough for any vector load.
constexpr size_t kAlignment = 64;
}  // namespace

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device), owning_(true) {
  FACET_CHECK(device.is_cpu(), "empty", "a CPU device (CUDA memory arrives with the CUDA backend)",
              "device " + device.str());
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (!data_) throw Error("empty", "host memory for " + std::to_string(bytes) + " bytes", "an allocation failure");
}

Storage::Storage(void* data, size_t bytes, Device device)
    : data_(data), bytes_(bytes), device_(device), owning_(false) {}

Storage::~Storage() {
  if (owning_) std::free(data_);
}

}  // namespace facet
