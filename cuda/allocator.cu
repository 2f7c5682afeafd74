// The device caching allocator: released blocks are kept by size class (core/block_cache.h, which
// also keeps CUDA graphs' private pools) and handed out again without cudaFree / cudaMalloc (each
// of which synchronizes the device). Reuse is safe because every kernel of a device runs on that
// device's one stream, in order. Pinned host memory has a cache of its own
// (cuda/pinned_allocator.cu).
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "core/block_cache.h"
#include "core/size_class.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/graph.h"
#include "cuda/graph_hooks.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr size_t kGranularity = 512;             // cudaMalloc aligns to 256; 512 keeps classes few
constexpr size_t kLargeFrom = size_t{1} << 20;  // eight classes per power of two from 1 MiB

struct Pool {
  std::mutex mutex;
  BlockCache cache;
};

Pool& pool(int device) {
  static Pool* pools = new Pool[kMaxDevices];  // never destroyed: tensors in static storage may outlive main
  return pools[device];
}

bool poison_allocations = false;

std::string mib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// The shared cache's blocks back to the driver; false (nothing freed) while the device captures:
// cudaFree waits for the device. The start mutex keeps a capture from another thread from
// beginning between the question and the frees.
bool free_cached(int device) {
  std::lock_guard<std::mutex> no_capture_starts(capture_start_mutex());
  if (is_capturing(device)) return false;
  std::vector<void*> blocks;
  {
    Pool& p = pool(device);
    std::lock_guard<std::mutex> lock(p.mutex);
    blocks = p.cache.drain();
  }
  DeviceGuard guard(device);
  for (void* ptr : blocks) FACET_CUDA_CHECK(cudaFree(ptr));
  return true;
}

}  // namespace

void* device_allocate(size_t bytes, int device) {
  const size_t size = size_class(bytes, kGranularity, kLargeFrom);
  Pool& p = pool(device);
  DeviceGuard guard(device);
  void* ptr = nullptr;
  bool capturing = false;
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    ptr = p.cache.take(size);
    capturing = p.cache.capturing();
  }
  if (!ptr) {
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation && !capturing) {  // give the cache back and try once more
      cudaGetLastError();
      if (free_cached(device)) status = cudaMalloc(&ptr, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) cudaGetLastError();
      const MemoryStats s = memory_stats(device);
      throw Error("cuda allocate", mib(bytes) + " on cuda:" + std::to_string(device),
                  "out of memory with " + mib(s.current_bytes) + " in use by facet and " + mib(free_b) + " of " +
                      mib(total_b) + " free on the device");
    }
    FACET_CUDA_CHECK(status);
    std::lock_guard<std::mutex> lock(p.mutex);
    p.cache.add(ptr, size);
  }
  if (poison_allocations) {
    try {
      FACET_CUDA_CHECK(cudaMemsetAsync(ptr, 0xFF, size, stream(device)));
    } catch (...) {
      device_release(ptr, bytes, device);  // back to the cache, statistics restored
      throw;
    }
  }
  return ptr;
}

void device_release(void* ptr, size_t bytes, int device) {
  if (!ptr) return;
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.cache.give_back(ptr, size_class(bytes, kGranularity, kLargeFrom));
}

uint64_t begin_graph_pool(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.cache.begin_capture();
}

void end_graph_pool(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.cache.end_capture();
}

void free_graph_pool(int device, uint64_t id) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.cache.free_pool(id);
}

MemoryStats memory_stats(int device) {
  check_device_index("cuda memory", device);
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.cache.stats();
}

void reset_peak_memory_stats(int device) {
  check_device_index("cuda memory", device);
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.cache.reset_peak();
}

void empty_cache(int device) {
  check_device_index("cuda memory", device);
  if (!free_cached(device)) refuse_in_capture(device, "empty_cache (cudaFree waits for the device)");
}

void set_poison_allocations(bool poison) { poison_allocations = poison; }

}  // namespace facet::cuda
