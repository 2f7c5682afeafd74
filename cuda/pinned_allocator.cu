// Pinned host memory (batches bound for the GPU) from a cache: cudaFreeHost waits for the whole
// device and cudaMallocHost takes milliseconds, and a DataLoader frees and allocates a batch every
// step. A released block may still feed an asynchronous copy, so the release records an event on
// every device stream in use and the block is handed out again only once those events have passed.
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/size_class.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/graph.h"
#include "cuda/graph_hooks.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr size_t kGranularity = 4096;             // a page
constexpr size_t kLargeFrom = size_t{1} << 20;   // eight classes per power of two from 1 MiB

struct DeviceEvent {
  int device;
  cudaEvent_t event;  // created on `device`: an event is recorded only on its own device's streams
};

struct ReleasedBlock {
  void* ptr;
  std::vector<DeviceEvent> events;  // one per device stream in use at the release
};

struct PinnedCache {
  std::mutex mutex;
  std::unordered_map<void*, size_t> sizes;        // every block handed out, by its class
  std::multimap<size_t, ReleasedBlock> released;  // by class, oldest first within a class
  std::vector<cudaEvent_t> spare_events[kMaxDevices];
  // Blocks whose release could record no event while a device captured: cudaFreeHost (which waits
  // for every device) must wait until no capture runs, and reuse is unsafe without the events.
  std::vector<void*> free_later;

  void keep_events(const std::vector<DeviceEvent>& events) {
    for (const DeviceEvent& e : events) spare_events[e.device].push_back(e.event);
  }
};

PinnedCache& cache() {
  static PinnedCache* c = new PinnedCache;  // never destroyed: pinned tensors in static storage may outlive main
  return *c;
}

// With the cache's mutex held. cudaSuccess once the work queued before the block's release has
// finished, cudaErrorNotReady while some of it runs, or the first failed query's error.
cudaError_t release_status(const ReleasedBlock& block) {
  for (const DeviceEvent& e : block.events) {
    const cudaError_t status = cudaEventQuery(e.event);
    // "Not ready" is an answer, not a failure, but the runtime keeps it as the thread's last error,
    // where the next launch check would find it.
    if (status == cudaErrorNotReady) cudaGetLastError();
    if (status != cudaSuccess) return status;
  }
  return cudaSuccess;
}

// Whether the block may be handed out again; a failed query is a facet::Error.
bool idle(const ReleasedBlock& block) {
  const cudaError_t status = release_status(block);
  if (status == cudaErrorNotReady) return false;
  FACET_CUDA_CHECK(status);
  return true;
}

// With the cache's mutex held and no capture running. Blocks kept beyond the cap while a device
// captured are freed once idle, so the cache does not stay at its largest for good; it stops one
// short of the cap, so that the block being released is kept rather than freed on the spot.
void trim(PinnedCache& c) {
  for (void* ptr : c.free_later)
    if (cudaFreeHost(ptr) != cudaSuccess) cudaGetLastError();
  c.free_later.clear();
  for (auto it = c.released.begin(); it != c.released.end() && c.released.size() >= kPinnedCacheCap;) {
    if (release_status(it->second) != cudaSuccess) {  // no throw here: a failed query leaves the block cached
      cudaGetLastError();
      ++it;
      continue;
    }
    c.keep_events(it->second.events);
    c.sizes.erase(it->second.ptr);
    if (cudaFreeHost(it->second.ptr) != cudaSuccess) cudaGetLastError();
    it = c.released.erase(it);
  }
}

}  // namespace

void* pinned_allocate(size_t bytes) {
  const size_t size = size_class(bytes, kGranularity, kLargeFrom);
  PinnedCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    const auto [first, last] = c.released.equal_range(size);
    for (auto it = first; it != last; ++it)
      if (idle(it->second)) {
        void* ptr = it->second.ptr;
        c.keep_events(it->second.events);
        c.released.erase(it);
        return ptr;
      }
  }
  void* ptr = nullptr;
  FACET_CUDA_CHECK(cudaMallocHost(&ptr, size));
  std::lock_guard<std::mutex> lock(c.mutex);
  c.sizes[ptr] = size;
  return ptr;
}

void pinned_release(void* ptr) {
  // Called from a destructor: no throw. A failed CUDA call frees the block the safe way
  // (cudaFreeHost waits for the device) or, failing that, leaks it; the error is cleared so no
  // later check misreports it.
  if (ptr == nullptr) return;
  PinnedCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  const auto found = c.sizes.find(ptr);
  if (found == c.sizes.end()) return;
  // A loader thread may release a batch while train's thread starts a capture: with the start
  // held, no capture begins between the question "capturing?" and the event records or the
  // cudaFreeHost that follow.
  std::lock_guard<std::mutex> no_capture_starts(capture_start_mutex());
  ReleasedBlock block{ptr, {}};
  int previous = 0;
  const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
  // Beyond the cap the block is freed, unless a device is capturing: cudaFreeHost waits for every
  // device, which a capture cannot hold.
  bool any_capturing = false;
  for (int d = 0; d < device_count(); ++d) any_capturing = any_capturing || is_capturing(d);
  if (!any_capturing) trim(c);
  bool recorded = have_previous && (c.released.size() < kPinnedCacheCap || any_capturing);
  for (int d = 0; recorded && d < device_count(); ++d) {
    // A capturing stream is skipped: an event recorded there would join the graph, and no work
    // queued on it reads a pinned block (the capture waited for the stream first and refuses copies
    // from host memory).
    if (!stream_ready(d) || is_capturing(d)) continue;
    recorded = cudaSetDevice(d) == cudaSuccess;
    cudaEvent_t e = nullptr;
    if (recorded && !c.spare_events[d].empty()) {
      e = c.spare_events[d].back();
      c.spare_events[d].pop_back();
    } else if (recorded) {
      recorded = cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess;
    }
    if (!recorded) break;
    block.events.push_back({d, e});
    recorded = cudaEventRecord(e, stream(d)) == cudaSuccess;
  }
  if (have_previous) cudaSetDevice(previous);
  if (recorded) {
    c.released.emplace(found->second, std::move(block));
    return;
  }
  cudaGetLastError();
  c.keep_events(block.events);
  c.sizes.erase(found);
  if (any_capturing) {
    c.free_later.push_back(ptr);
    return;
  }
  if (cudaFreeHost(ptr) != cudaSuccess) cudaGetLastError();
}

size_t pinned_cached_blocks() {
  PinnedCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.released.size();
}

}  // namespace facet::cuda
