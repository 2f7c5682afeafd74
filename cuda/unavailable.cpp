// A build without CUDA (no nvcc, or CUDA=0): no device is ever found, and every CUDA entry point
// is a facet::Error that says what the build lacks. Compiled only in such builds.
#include "core/error.h"
#include "cuda/conv.h"
#include "cuda/cuda.h"
#include "cuda/graph.h"
#include "cuda/runtime.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace facet::cuda {

namespace {
[[noreturn]] void unavailable(const char* what) {
  throw Error(what, "a build with the CUDA backend (nvcc found, CUDA not set to 0)", "a build without CUDA");
}
}  // namespace

int device_count() { return 0; }
void* device_allocate(size_t bytes, int device) { unavailable("cuda allocate"); }
void device_release(void* ptr, size_t bytes, int device) {}
MemoryStats memory_stats(int device) { unavailable("cuda memory_stats"); }
void empty_cache(int device) { unavailable("cuda empty_cache"); }
void reset_peak_memory_stats(int device) { unavailable("cuda reset_peak_memory_stats"); }
void set_poison_allocations(bool poison) {}
void* pinned_allocate(size_t bytes) { unavailable("pin_memory"); }
void pinned_release(void* ptr) {}
size_t pinned_cached_blocks() { return 0; }
void copy_bytes(void* dst, const void* src, size_t bytes, CopyKind kind, int device, bool source_pinned) {
  unavailable("to");
}
void synchronize(int device) { unavailable("cuda synchronize"); }
void check_index_range(const int64_t* index, int64_t count, int64_t bound, int device, DeferredChecks::Check check) {
  unavailable("cuda check_index_range");
}
struct Graph::State {};
Graph::Graph() = default;
Graph::~Graph() = default;
void Graph::capture(int device, const std::function<void()>& body) { unavailable("cuda::Graph::capture"); }
void Graph::replay() { unavailable("cuda::Graph::replay"); }
bool Graph::captured() const { return false; }
bool is_capturing(int device) { return false; }
void set_allow_tf32(bool allow) {}
bool allow_tf32() { return false; }

// No GPU convolution to choose here: the choice is kept (and cudnn refused) so code that sets it
// runs unchanged in both builds.
namespace {
ConvAlgorithm chosen_conv = ConvAlgorithm::Im2colGemm;
}  // namespace
bool built_with_cudnn() { return false; }
void set_conv_algorithm(ConvAlgorithm algorithm) {
  FACET_CHECK(algorithm != ConvAlgorithm::Cudnn, "facet::cuda::set_conv_algorithm",
              "a build with cuDNN for the cudnn convolution algorithm (rebuild with make USE_CUDNN=1)",
              "a build without CUDA");
  chosen_conv = algorithm;
}
ConvAlgorithm conv_algorithm() { return chosen_conv; }

#define FACET_UNAVAILABLE_KERNEL(name, params) \
  void name params { unavailable(#name); }
FACET_BACKEND_KERNELS(FACET_UNAVAILABLE_KERNEL)
FACET_CUDA_CONV_KERNELS(FACET_UNAVAILABLE_KERNEL)

}  // namespace facet::cuda
