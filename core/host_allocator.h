#pragma once
// Host memory for tensors. Large blocks are cached by size class and reused instead of being
// returned to the OS: a fresh 64 MiB buffer costs 16k page faults, which made an elementwise op
// on large tensors four times slower than its loop (bench/cpu_basics). Small blocks go straight
// to the C allocator, which already recycles them.
#include <cstddef>

namespace facet {

struct HostMemoryStats {
  size_t current_bytes = 0;  // handed out and not yet released
  size_t peak_bytes = 0;     // the most ever handed out at once
  size_t cached_bytes = 0;   // released, kept for reuse
};

class HostAllocator {
 public:
  static constexpr size_t kAlignment = 64;                 // whole cache lines, any vector load
  static constexpr size_t kCacheFrom = size_t{1} << 20;    // blocks below 1 MiB are not cached
  static constexpr size_t kCacheLimit = size_t{1} << 30;   // at most 1 GiB kept for reuse

  // The block's real size is size_class(bytes); pass the same `bytes` to release().
  static void* allocate(size_t bytes);
  static void release(void* ptr, size_t bytes);
  static HostMemoryStats stats();
  // Starts a new peak from what is in use now (torch.cuda.reset_peak_memory_stats, on the host).
  static void reset_peak();
  static void empty_cache();
  // Tests: fill every allocation with 0xFF bytes (NaN in float, -1 in int64), so an output
  // element a kernel forgot to write shows up instead of reading as a plausible zero.
  static void set_poison(bool poison);
  // Bytes actually reserved for a request (core/size_class.h with 64-byte granularity).
  static size_t size_class(size_t bytes);

 private:
  static void* allocate_block(size_t size);
};

}  // namespace facet
