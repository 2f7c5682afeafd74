// The device caching allocator's bookkeeping (core/block_cache.h): reuse by size class, the
// statistics, and the private pools that keep a CUDA graph's blocks out of other hands. Plain C++:
// the "blocks" are addresses in an array, no device is touched.
#include <algorithm>

#include "core/block_cache.h"
#include "tests/helpers.h"

using namespace facet;
using facet::tests::expect_error;

namespace {

char arena[16];
void* block(int i) { return arena + i; }

}  // namespace

TEST_CASE("block cache: a released block serves the next request of its class, and the statistics follow") {
  BlockCache cache;
  CHECK(cache.take(512) == nullptr);  // nothing released yet: the caller asks the driver
  cache.add(block(0), 512);
  cache.add(block(1), 1024);
  CHECK(cache.stats().current_bytes == 1536);
  CHECK(cache.stats().peak_bytes == 1536);
  cache.give_back(block(0), 512);
  CHECK(cache.stats().current_bytes == 1024);
  CHECK(cache.stats().cached_bytes == 512);
  CHECK(cache.take(1024) == nullptr);  // another class
  CHECK(cache.take(512) == block(0));
  CHECK(cache.stats().cached_bytes == 0);
  CHECK(cache.stats().current_bytes == 1536);
  cache.give_back(block(0), 512);
  cache.give_back(block(1), 1024);
  cache.reset_peak();
  CHECK(cache.stats().peak_bytes == 0);
  const std::vector<void*> freed = cache.drain();
  CHECK(freed.size() == 2);
  CHECK(cache.stats().cached_bytes == 0);
  CHECK(cache.take(512) == nullptr);
}

TEST_CASE("block cache: a graph's blocks stay with its capture until the graph is freed") {
  BlockCache cache;
  cache.add(block(0), 512);  // allocated before the capture, released during it
  cache.add(block(1), 512);  // released before the capture: the capture may take it from the shared cache
  cache.give_back(block(1), 512);
  const BlockCache::PoolId pool = cache.begin_capture();
  CHECK(cache.capturing());
  CHECK(cache.take(512) == block(1));  // from the shared cache, now the pool's
  cache.add(block(2), 512);            // fresh during the capture
  cache.give_back(block(0), 512);      // the captured kernels may have read it
  cache.give_back(block(2), 512);
  CHECK(cache.pool_blocks(pool) == 3);
  // Within the capture its released blocks are reused (the replay keeps the captured order).
  void* again = cache.take(512);
  CHECK((again == block(0) || again == block(2)));
  cache.give_back(again, 512);
  cache.end_capture();
  CHECK_FALSE(cache.capturing());

  // Outside the capture nobody else gets them, and a pool block released later returns to the pool.
  CHECK(cache.take(512) == nullptr);
  cache.give_back(block(1), 512);
  CHECK(cache.take(512) == nullptr);
  CHECK(cache.drain().empty());  // empty_cache must not cudaFree a live graph's memory
  CHECK(cache.stats().cached_bytes == 3 * 512);

  cache.free_pool(pool);
  CHECK(cache.pool_blocks(pool) == 0);
  std::vector<void*> shared = {cache.take(512), cache.take(512), cache.take(512)};
  std::sort(shared.begin(), shared.end());
  CHECK(shared == std::vector<void*>{block(0), block(1), block(2)});
  CHECK(cache.take(512) == nullptr);
}

TEST_CASE("block cache: a freed graph's block still in use becomes an ordinary block") {
  BlockCache cache;
  const BlockCache::PoolId pool = cache.begin_capture();
  cache.add(block(3), 2048);  // a captured step's output, still held by a tensor
  cache.end_capture();
  cache.free_pool(pool);
  cache.give_back(block(3), 2048);
  CHECK(cache.take(2048) == block(3));  // back in the shared cache
  CHECK(cache.stats().current_bytes == 2048);
}

TEST_CASE("block cache: two pools keep apart, and captures do not nest") {
  BlockCache cache;
  const BlockCache::PoolId first = cache.begin_capture();
  cache.add(block(4), 512);
  expect_error([&] { cache.begin_capture(); }, {"cuda graph capture", "no capture in progress", "already running"});
  cache.give_back(block(4), 512);
  cache.end_capture();
  const BlockCache::PoolId second = cache.begin_capture();
  CHECK(second != first);
  CHECK(cache.take(512) == nullptr);  // the first graph's block is not the second's
  cache.add(block(5), 512);
  cache.end_capture();
  CHECK(cache.pool_blocks(first) == 1);
  CHECK(cache.pool_blocks(second) == 1);
  cache.free_pool(first);
  CHECK(cache.take(512) == block(4));
  CHECK(cache.pool_blocks(second) == 1);
}

TEST_CASE("block cache: a block two graphs touch stays out of other hands until both are freed") {
  // Graph A's output T (allocated in A's capture) is read and released while graph B captures: both
  // graphs' replays use T's address, so neither freed graph alone may hand it back.
  for (bool a_first : {true, false}) {
    INFO("graph A freed first: " << a_first);
    BlockCache cache;
    const BlockCache::PoolId a = cache.begin_capture();
    cache.add(block(6), 512);
    cache.end_capture();
    const BlockCache::PoolId b = cache.begin_capture();
    cache.give_back(block(6), 512);
    cache.end_capture();
    CHECK(cache.pool_blocks(a) == 1);
    CHECK(cache.pool_blocks(b) == 1);
    cache.free_pool(a_first ? a : b);
    CHECK(cache.take(512) == nullptr);  // the other graph still replays on it
    CHECK(cache.drain().empty());
    CHECK(cache.pool_blocks(a_first ? b : a) == 1);
    cache.free_pool(a_first ? b : a);
    CHECK(cache.take(512) == block(6));
    CHECK(cache.stats().cached_bytes == 0);
  }
}
