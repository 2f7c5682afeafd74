// The device half of deferred index checks (core/deferred_checks.h). A check is one block that
// finds the first value out of [0, bound) and writes its verdict (position and value, or position
// -1) into its slot of a per-device ring; no host wait. wait_for_stream, the one place the host
// waits on a stream, queues a copy of the unsettled slots into pinned memory ahead of the wait,
// then settles those checks: a failure costs nothing extra, a success costs a few bytes copied.
// One block keeps the first position exact (a block-wide minimum, no atomics): labels and center
// indices are a batch long; a gather index of millions of values pays about a millisecond.
// During a graph capture the verdicts go to the graph's own slots instead (cuda/graph_hooks.h).
#include <algorithm>
#include <climits>
#include <mutex>
#include <optional>
#include <string>

#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/graph.h"
#include "cuda/graph_hooks.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

// Checks queued without a wait in between, at most; one more waits for the stream first.
constexpr uint64_t kSlots = 1024;

struct Slot {
  long long position;  // the first out-of-range position, -1 when every value is in range
  long long value;
};

// Launched as one block of 1024 threads: the bounds make the compiler keep within the registers that
// takes (64 a thread), else the launch could fail with "too many resources requested".
__global__ void __launch_bounds__(1024) check_index_range_kernel(const int64_t* index, int64_t count, int64_t bound,
                                                                 Slot* slot) {
  long long first = LLONG_MAX;  // this thread's first bad position; its later ones cannot be the block's first
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x)
    if (index[i] < 0 || index[i] >= bound) {
      first = i;
      break;
    }
  first = block_reduce(first, MinOp{}, LLONG_MAX);
  if (threadIdx.x == 0) {
    slot->position = first == LLONG_MAX ? -1 : first;
    slot->value = first == LLONG_MAX ? 0 : index[first];
  }
}

struct DeviceChecks {
  std::mutex mutex;
  DeferredChecks checks;
  Slot* slots = nullptr;     // device memory, kSlots, check s writes slots[s % kSlots]
  Slot* readback = nullptr;  // pinned host memory, the same layout
  GraphChecks* capture = nullptr;  // the capture in progress, if any, which takes new checks

  // Both buffers or neither: a ring with device slots and no readback would be copied into null.
  void ensure_ring() {
    if (slots != nullptr) return;
    Slot* device_slots = nullptr;
    FACET_CUDA_CHECK(cudaMalloc(&device_slots, kSlots * sizeof(Slot)));
    const cudaError_t pinned = cudaMallocHost(&readback, kSlots * sizeof(Slot));
    if (pinned != cudaSuccess) {
      readback = nullptr;
      cudaFree(device_slots);
      FACET_CUDA_CHECK(pinned);
    }
    slots = device_slots;
  }
};

DeviceChecks& checks_of(int device) {
  static DeviceChecks all[kMaxDevices];
  return all[device];
}

// With c.mutex held: waits for the stream and settles every check queued before the wait.
std::optional<Error> wait_and_settle(int device, DeviceChecks& c) {
  const uint64_t first = c.checks.first(), done = c.checks.end();
  // The unsettled slots are one run of the ring, or two where it wraps.
  for (uint64_t s = first; s < done;) {
    const uint64_t at = s % kSlots, n = std::min(done - s, kSlots - at);
    FACET_CUDA_CHECK(cudaMemcpyAsync(c.readback + at, c.slots + at, n * sizeof(Slot), cudaMemcpyDeviceToHost, stream(device)));
    s += n;
  }
  FACET_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
  return c.checks.settle(done, [&](uint64_t s) {
    const Slot& slot = c.readback[s % kSlots];
    return IndexVerdict{slot.position, slot.value};
  });
}

}  // namespace

void check_index_range(const int64_t* index, int64_t count, int64_t bound, int device, DeferredChecks::Check check) {
  if (count == 0) return;
  DeviceGuard guard(device);
  DeviceChecks& c = checks_of(device);
  std::optional<Error> error;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.capture) {  // the graph's slot i, read back after each replay
      const size_t i = c.capture->checks.size();
      FACET_CHECK(i < kGraphCheckSlots, "cuda graph capture",
                  "at most " + std::to_string(kGraphCheckSlots) + " index checks in one graph", "more");
      check_index_range_kernel<<<1, 1024, 0, stream(device)>>>(index, count, bound,
                                                                static_cast<Slot*>(c.capture->slots) + i);
      FACET_CUDA_CHECK_LAUNCH();
      c.capture->checks.push_back(std::move(check));
      return;
    }
    c.ensure_ring();
    if (c.checks.size() == kSlots) error = wait_and_settle(device, c);  // the ring is full
    if (!error) {  // registered only once its kernel is queued: a failed launch leaves no stale slot
      check_index_range_kernel<<<1, 1024, 0, stream(device)>>>(index, count, bound, c.slots + c.checks.end() % kSlots);
      FACET_CUDA_CHECK_LAUNCH();
      c.checks.add(std::move(check));
    }
  }
  if (error) throw *error;
}

void wait_for_stream(int device) {
  if (is_capturing(device)) refuse_in_capture(device, "a wait for the device (synchronize, item())");
  DeviceChecks& c = checks_of(device);
  std::optional<Error> error;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.checks.size() == 0) {
      FACET_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
      return;
    }
    error = wait_and_settle(device, c);
  }
  if (error) throw *error;
}

void begin_graph_checks(int device, GraphChecks* checks) {
  DeviceChecks& c = checks_of(device);
  std::lock_guard<std::mutex> lock(c.mutex);
  // From the caching allocator: freeing them never calls cudaFree, not even inside a capture.
  if (checks->slots == nullptr) checks->slots = device_allocate(kGraphCheckSlots * sizeof(Slot), device);
  checks->device = device;
  c.capture = checks;
}

void end_graph_checks(int device) {
  DeviceChecks& c = checks_of(device);
  std::lock_guard<std::mutex> lock(c.mutex);
  c.capture = nullptr;
}

void queue_graph_checks(int device, const GraphChecks& graph) {
  const uint64_t n = graph.checks.size();
  if (n == 0) return;
  DeviceChecks& c = checks_of(device);
  std::optional<Error> error;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.ensure_ring();
    if (c.checks.size() + n > kSlots) error = wait_and_settle(device, c);  // room for the replay's verdicts
    const uint64_t first = c.checks.end();
    for (const DeferredChecks::Check& check : graph.checks) c.checks.add(check);
    // Queued after the replay on the same stream: the copies see its verdicts. One run of the
    // ring, or two where it wraps.
    const Slot* from = static_cast<const Slot*>(graph.slots);
    for (uint64_t k = 0; k < n;) {
      const uint64_t at = (first + k) % kSlots, m = std::min(n - k, kSlots - at);
      FACET_CUDA_CHECK(cudaMemcpyAsync(c.slots + at, from + k, m * sizeof(Slot), cudaMemcpyDeviceToDevice,
                                       stream(device)));
      k += m;
    }
  }
  if (error) throw *error;  // an older check failed; this replay's checks still wait for the next wait
}

void free_graph_checks(GraphChecks& checks) noexcept {
  if (checks.slots != nullptr) device_release(checks.slots, kGraphCheckSlots * sizeof(Slot), checks.device);
  checks.slots = nullptr;
  checks.checks.clear();
}

}  // namespace facet::cuda
