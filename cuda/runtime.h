#pragma once
// Plain C++ view of the CUDA runtime, so that core/ can use devices without CUDA headers. In a
// build without CUDA, cuda/unavailable.cpp defines these: device_count() is 0 and everything else
// is a facet::Error naming the build.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/deferred_checks.h"

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
// Released blocks the pinned cache keeps for reuse: at most kPinnedCacheCap once no capture runs
// (more may wait while one does, as freeing a block waits for every device).
inline constexpr size_t kPinnedCacheCap = 64;
size_t pinned_cached_blocks();

// ---- transfers, on the stream of `device` (the CUDA side; the destination's for device to device).
// A copy to the host waits for the stream; so does one from pageable host memory (the caller may
// reuse it at once); one from pinned memory stays asynchronous.
enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
void copy_bytes(void* dst, const void* src, size_t bytes, CopyKind kind, int device, bool source_pinned = false);
void synchronize(int device);

// ---- index range checks that do not stop the host (cuda/index_checks.cu) ----
// Queues a check that each of the `count` int64 values at `index` (device memory, on the stream
// of `device`) lies in [0, bound), and returns at once. The stream's next wait (a copy to the host,
// a copy from pageable memory, synchronize) reads the verdicts and throws the oldest failed
// check's facet::Error, the same words the CPU check throws at once. Kernels that take an index
// skip the values out of range, so a bad label never reads or writes out of bounds.
void check_index_range(const int64_t* index, int64_t count, int64_t bound, int device, DeferredChecks::Check check);

// ---- cuBLAS: TF32 tensor cores for float32 GEMMs, off by default (exact float32 products) ----
void set_allow_tf32(bool allow);
bool allow_tf32();

// ---- the algorithm of float convolutions on the GPU (conv2d forward and backward) ----
//   Im2colGemm    im2col into a [C*KH*KW, N*OH*OW] buffer, then cuBLAS (backward: cuBLAS + col2im)
//   ImplicitGemm  facet's own tiled kernel reads the columns straight from the image, no buffer
//                 (forward only; its backward is Im2colGemm's)
//   Cudnn         cuDNN forward, backward data and backward filter (a build with USE_CUDNN=1)
// The default is Cudnn in a USE_CUDNN=1 build, else Im2colGemm (cuBLAS's tuned GEMM is expected to
// outrun the simple tiled kernel even after paying for the buffer; none of it is measured yet);
// the environment variable FACET_CONV_ALGO (a name below) overrides it, read at the first use, and
// set_conv_algorithm overrides both.
// The CPU always runs im2col + GEMM.
enum class ConvAlgorithm { Im2colGemm, ImplicitGemm, Cudnn };
// facet::Error for Cudnn in a build without cuDNN (it says to rebuild with USE_CUDNN=1).
void set_conv_algorithm(ConvAlgorithm algorithm);
ConvAlgorithm conv_algorithm();
// Whether this build links cuDNN (make USE_CUDNN=1).
bool built_with_cudnn();

// "im2col_gemm", "implicit_gemm", "cudnn": FACET_CONV_ALGO's values.
inline const char* conv_algorithm_name(ConvAlgorithm algorithm) {
  switch (algorithm) {
    case ConvAlgorithm::Im2colGemm: return "im2col_gemm";
    case ConvAlgorithm::ImplicitGemm: return "implicit_gemm";
    case ConvAlgorithm::Cudnn: return "cudnn";
  }
  return "unknown";
}
// False (and `algorithm` untouched) for a name that is none of them.
inline bool parse_conv_algorithm(std::string_view name, ConvAlgorithm& algorithm) {
  for (ConvAlgorithm a : {ConvAlgorithm::Im2colGemm, ConvAlgorithm::ImplicitGemm, ConvAlgorithm::Cudnn})
    if (name == conv_algorithm_name(a)) {
      algorithm = a;
      return true;
    }
  return false;
}

}  // namespace facet::cuda
