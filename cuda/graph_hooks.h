#pragma once
// What cuda/graph.cu asks of the allocator and of the index checks while it captures and replays
// a graph (CUDA sources only; the public face is cuda/runtime.h's Graph).
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/deferred_checks.h"

namespace facet::cuda {

// cuda/allocator.cu: the capture's private pool (core/block_cache.h), by id.
uint64_t begin_graph_pool(int device);
void end_graph_pool(int device);
void free_graph_pool(int device, uint64_t id);

// cuda/index_checks.cu: an index check queued during a capture writes its verdict into the graph's
// own slots, not the ring; after each replay, copies of those slots join the ring as new checks,
// so the next wait settles them like any other.
inline constexpr size_t kGraphCheckSlots = 256;
struct GraphChecks {
  std::vector<DeferredChecks::Check> checks;  // in capture order, check i writes slot i
  void* slots = nullptr;                      // device memory for kGraphCheckSlots verdicts
  int device = -1;                            // where the slots live
};
// Allocates the slots (before the capture begins) and routes the device's checks to `checks`.
void begin_graph_checks(int device, GraphChecks* checks);
void end_graph_checks(int device);
// After a replay is queued: its verdicts join the ring.
void queue_graph_checks(int device, const GraphChecks& checks);
// Returns the slots to the caching allocator (the graph's replays finished); no throw.
void free_graph_checks(GraphChecks& checks) noexcept;

// cuda/graph.cu: held while a capture begins (its flag set, cudaStreamBeginCapture called). Another
// thread that holds it sees no capture start between asking is_capturing and queuing work on a
// stream or waiting for the device: cuda/pinned_allocator.cu releases blocks under it.
std::mutex& capture_start_mutex();

// The facet::Error for a host wait attempted inside a capture (`what`: the wait).
[[noreturn]] void refuse_in_capture(int device, const std::string& what);

}  // namespace facet::cuda
