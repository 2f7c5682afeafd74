#include "core/host_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/size_class.h"

namespace facet {

namespace {

// Under AddressSanitizer every block goes back to the system, so a use after release is caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif

bool poison_allocations = false;

struct Cache {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // size class -> blocks
  HostMemoryStats stats;
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: tensors in static storage may outlive main
  return *c;
}

void* system_alloc(size_t bytes) {
  void* p = std::aligned_alloc(HostAllocator::kAlignment, bytes);
  if (!p) throw Error("empty", "host memory for " + std::to_string(bytes) + " bytes", "an allocation failure");
  return p;
}

}  // namespace

size_t HostAllocator::size_class(size_t bytes) { return facet::size_class(bytes, kAlignment, kCacheFrom); }

void* HostAllocator::allocate(size_t bytes) {
  void* p = allocate_block(size_class(bytes));
  if (poison_allocations) std::memset(p, 0xFF, size_class(bytes));
  return p;
}

void HostAllocator::set_poison(bool poison) { poison_allocations = poison; }

void* HostAllocator::allocate_block(size_t size) {
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.stats.current_bytes += size;
    c.stats.peak_bytes = std::max(c.stats.peak_bytes, c.stats.current_bytes);
    const auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cached_bytes -= size;
      return p;
    }
  }
  try {
    return system_alloc(size);
  } catch (...) {
    empty_cache();  // give the cache back and try once more before failing
    try {
      return system_alloc(size);
    } catch (...) {
      std::lock_guard<std::mutex> lock(c.mutex);
      c.stats.current_bytes -= size;
      throw;
    }
  }
}

void HostAllocator::release(void* ptr, size_t bytes) {
  if (!ptr) return;
  const size_t size = size_class(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.stats.current_bytes -= size;
    if (kCacheEnabled && size >= kCacheFrom && c.stats.cached_bytes + size <= kCacheLimit) {
      c.free_blocks[size].push_back(ptr);
      c.stats.cached_bytes += size;
      return;
    }
  }
  std::free(ptr);
}

HostMemoryStats HostAllocator::stats() {
  std::lock_guard<std::mutex> lock(cache().mutex);
  return cache().stats;
}

void HostAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mutex);
  cache().stats.peak_bytes = cache().stats.current_bytes;
}

void HostAllocator::empty_cache() {
  std::map<size_t, std::vector<void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(cache().mutex);
    blocks.swap(cache().free_blocks);
    cache().stats.cached_bytes = 0;
  }
  for (auto& [size, list] : blocks)
    for (void* p : list) std::free(p);
}

}  // namespace facet
