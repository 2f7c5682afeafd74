// The device half of deferred index checks (core/deferred_checks.h). A check is one block that
// finds the first value out of [0, bound) and writes its verdict (position and value, or position
// -1) into its slot of a per-device ring; no host wait. wait_for_stream, the one place the host
// waits on a stream, queues a copy of the unsettled slots into pinned memory ahead of the wait,
// then settles those checks: a failure costs nothing extra, a success costs a few bytes copied.
// One block keeps the first position exact (a block-wide minimum, no atomics): labels and center
// indices are a batch long; a gather index of millions of values pays about a millisecond.
#include <algorithm>
#include <climits>
#include <mutex>
#include <optional>

#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

// Checks queued without a wait in between, at most; one more waits for the stream first.
constexpr uint64_t kSlots = 1024;

struct Slot {
  long long position;  // the first out-of-range position, -1 when every value is in range
  long long value;
};

__global__ void check_index_range_kernel(const int64_t* index, int64_t count, int64_t bound, Slot* slot) {
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
    if (c.slots == nullptr) {
      FACET_CUDA_CHECK(cudaMalloc(&c.slots, kSlots * sizeof(Slot)));
      FACET_CUDA_CHECK(cudaMallocHost(&c.readback, kSlots * sizeof(Slot)));
    }
    if (c.checks.size() == kSlots) error = wait_and_settle(device, c);  // the ring is full
    if (!error) {
      const uint64_t s = c.checks.add(std::move(check));
      check_index_range_kernel<<<1, 1024, 0, stream(device)>>>(index, count, bound, c.slots + s % kSlots);
      FACET_CUDA_CHECK_LAUNCH();
    }
  }
  if (error) throw *error;
}

void wait_for_stream(int device) {
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

}  // namespace facet::cuda
