#pragma once
// Plain C++ view of the CUDA runtime, so that core/ can use devices without CUDA headers. In a
// build without CUDA, cuda/unavailable.cpp defines these: device_count() is 0 and everything else
// is a facet::Error naming the build.
#include <cstddef>

namespace facet::cuda {

// Usable devices; 0 (never a crash) when the driver or the GPU is missing.
int device_count();

// ---- device memory: a caching allocator per device (cuda/allocator.cu) ----
struct MemoryStats {
  size_t current_bytes = 0;  // handed out and not yet released
  size_t peak_bytes = 0;     // the most ever handed out at once
  size_t cached_bytes = 0;   // released, kept for reuse without cudaFree
};
// Out of memory: the cache is released and the allocation retried once, then a facet::Error
// names the size asked for and what is in use.
void* device_allocate(size_t bytes, int device);
void device_release(void* ptr, size_t bytes, int device);
MemoryStats memory_stats(int device);
// Starts a new peak from what is in use now, as torch.cuda.reset_peak_memory_stats.
void reset_peak_memory_stats(int device);
void empty_cache(int device);
// Tests: fill every new device allocation with 0xFF bytes (NaN in float, -1 in int64), so an
// output element a kernel forgot to write shows up.
void set_poison_allocations(bool poison);

// ---- pinned host memory, for batches that move to the GPU asynchronously ----
void* pinned_allocate(size_t bytes);
void pinned_release(void* ptr);

// ---- transfers, on the stream of `device` (the CUDA side; the destination's for device to device).
// A copy to the host waits for the stream; so does one from pageable host memory (the caller may
// reuse it at once); one from pinned memory stays asynchronous.
enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
void copy_bytes(void* dst, const void* src, size_t bytes, CopyKind kind, int device, bool source_pinned = false);
void synchronize(int device);

// ---- cuBLAS: TF32 tensor cores for float32 GEMMs, off by default (exact float32 products) ----
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace facet::cuda
