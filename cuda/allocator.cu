// The device caching allocator: released blocks go to per-device free lists by size class and are
// handed out again without cudaFree / cudaMalloc (each of which synchronizes the device). Reuse
// is safe because every kernel of a device runs on that device's one stream, in order. Pinned
// host memory has a cache of its own (cuda/pinned_allocator.cu).
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/size_class.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr size_t kGranularity = 512;             // cudaMalloc aligns to 256; 512 keeps classes few
constexpr size_t kLargeFrom = size_t{1} << 20;  // eight classes per power of two from 1 MiB

struct Pool {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;
  MemoryStats stats;
};

Pool& pool(int device) {
  static Pool* pools = new Pool[kMaxDevices];  // never destroyed: tensors in static storage may outlive main
  return pools[device];
}

bool poison_allocations = false;

// The user-facing entry points name devices by index; tensors reach here already checked.
void check_device(int device) {
  FACET_CHECK(device >= 0 && device < device_count(), "cuda memory",
              "a device index in [0, " + std::to_string(device_count()) + ")", std::to_string(device));
}

std::string mib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

void free_cached(int device) {
  std::map<size_t, std::vector<void*>> blocks;
  {
    Pool& p = pool(device);
    std::lock_guard<std::mutex> lock(p.mutex);
    blocks.swap(p.free_blocks);
    p.stats.cached_bytes = 0;
  }
  DeviceGuard guard(device);
  for (auto& [size, list] : blocks)
    for (void* ptr : list) FACET_CUDA_CHECK(cudaFree(ptr));
}

}  // namespace

void* device_allocate(size_t bytes, int device) {
  const size_t size = size_class(bytes, kGranularity, kLargeFrom);
  Pool& p = pool(device);
  DeviceGuard guard(device);
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    const auto it = p.free_blocks.find(size);
    if (it != p.free_blocks.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      p.stats.cached_bytes -= size;
    }
  }
  if (!ptr) {
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {  // give the cache back and try once more
      cudaGetLastError();
      free_cached(device);
      status = cudaMalloc(&ptr, size);
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
  }
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stats.current_bytes += size;
    if (p.stats.current_bytes > p.stats.peak_bytes) p.stats.peak_bytes = p.stats.current_bytes;
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
  const size_t size = size_class(bytes, kGranularity, kLargeFrom);
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.current_bytes -= size;
  p.stats.cached_bytes += size;
  p.free_blocks[size].push_back(ptr);
}

MemoryStats memory_stats(int device) {
  check_device(device);
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

void reset_peak_memory_stats(int device) {
  check_device(device);
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.peak_bytes = p.stats.current_bytes;
}

void empty_cache(int device) {
  check_device(device);
  free_cached(device);
}

void set_poison_allocations(bool poison) { poison_allocations = poison; }

}  // namespace facet::cuda
