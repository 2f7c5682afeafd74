#pragma once
// The bookkeeping of the device caching allocator (cuda/allocator.cu), plain C++ so that the CPU
// tests cover it: released blocks kept by size class for reuse, the memory statistics, and the
// private pools of CUDA graphs. It never calls the driver and never locks: the allocator holds its
// mutex around every call and does the cudaMalloc / cudaFree the answers ask for.
//
// Graph pools. A captured graph replays its kernels on the same addresses every time, so every
// block its kernels touch must stay out of other hands while the graph lives:
// - a block handed out during the capture belongs to the capture's pool;
// - a block released during the capture joins that pool too (the captured kernels may have used
//   it; it was possibly allocated before the capture);
// - a pool's released blocks are handed out again only to the same capture: the replay runs the
//   kernels in the order they were captured, so reuse within one capture is as safe as eager reuse
//   on one stream;
// - a pool's block released after the capture returns to the pool, not to the shared cache;
// - a block can belong to several pools: one graph's output released while another captures is
//   touched by both graphs' replays;
// - when a graph goes, free_pool() lets go of its blocks; one that no other live pool holds moves
//   to the shared cache if released, or becomes an ordinary block if still handed out.
#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "cuda/runtime.h"  // MemoryStats: a graph pool's released blocks count as cached

namespace facet {

class BlockCache {
 public:
  using PoolId = uint64_t;  // a graph's pool; 0 is none

  // A released block of class `size` handed out again (during a capture: the capture's own first,
  // then one from the shared cache, which joins the pool), or nullptr: the caller then gets a block
  // from the driver and calls add().
  void* take(size_t size);
  // A block of class `size` fresh from the driver, handed out.
  void add(void* ptr, size_t size);
  // A handed-out block released (its class is `size`).
  void give_back(void* ptr, size_t size);
  // Removes and returns the shared cache's released blocks (none of a graph pool's), for cudaFree.
  std::vector<void*> drain();

  // From here to end_capture() blocks handed out or released belong to a new pool; its id.
  PoolId begin_capture();
  void end_capture();
  bool capturing() const { return capture_ != 0; }
  // The pool's graph is gone: its released blocks join the shared cache, its handed-out ones
  // become ordinary blocks.
  void free_pool(PoolId pool);
  // Blocks a pool holds (handed out or released), for tests and messages.
  size_t pool_blocks(PoolId pool) const;

  const cuda::MemoryStats& stats() const { return stats_; }
  void reset_peak() { stats_.peak_bytes = stats_.current_bytes; }

 private:
  using FreeLists = std::map<size_t, std::vector<void*>>;
  static void* pop(FreeLists& lists, size_t size);
  void hold(void* ptr);  // the capture in progress holds ptr too

  FreeLists shared_;
  std::map<PoolId, FreeLists> pools_;           // each live pool's released blocks
  // Every block a live pool holds, and which pools (the last one keeps it on its free list when released).
  std::unordered_map<void*, std::vector<PoolId>> holders_;
  PoolId capture_ = 0, next_pool_ = 1;
  cuda::MemoryStats stats_;
};

}  // namespace facet
