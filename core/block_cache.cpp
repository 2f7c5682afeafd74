#include "core/block_cache.h"

#include <algorithm>
#include <iterator>

#include "core/error.h"

namespace facet {

void* BlockCache::pop(FreeLists& lists, size_t size) {
  const auto it = lists.find(size);
  if (it == lists.end() || it->second.empty()) return nullptr;
  void* ptr = it->second.back();
  it->second.pop_back();
  return ptr;
}

void* BlockCache::take(size_t size) {
  void* ptr = capturing() ? pop(pools_[capture_], size) : nullptr;
  if (!ptr) ptr = pop(shared_, size);
  if (!ptr) return nullptr;
  stats_.cached_bytes -= size;
  add(ptr, size);  // handed out again: counted, and the capture's from now on if one runs
  return ptr;
}

void BlockCache::add(void* ptr, size_t size) {
  if (capturing()) hold(ptr);
  stats_.current_bytes += size;
  if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
}

void BlockCache::hold(void* ptr) {
  std::vector<PoolId>& pools = holders_[ptr];
  if (std::find(pools.begin(), pools.end(), capture_) == pools.end()) pools.push_back(capture_);
}

void BlockCache::give_back(void* ptr, size_t size) {
  stats_.current_bytes -= size;
  stats_.cached_bytes += size;
  if (capturing()) hold(ptr);  // the captured kernels may have used it
  const auto it = holders_.find(ptr);
  if (it != holders_.end())
    pools_[it->second.back()][size].push_back(ptr);
  else
    shared_[size].push_back(ptr);
}

std::vector<void*> BlockCache::drain() {
  std::vector<void*> out;
  for (auto& [size, list] : shared_) {
    stats_.cached_bytes -= size * list.size();
    out.insert(out.end(), list.begin(), list.end());
  }
  shared_.clear();
  return out;
}

BlockCache::PoolId BlockCache::begin_capture() {
  FACET_CHECK(!capturing(), "cuda graph capture", "no capture in progress on this device", "one already running");
  capture_ = next_pool_++;
  pools_[capture_];
  return capture_;
}

void BlockCache::end_capture() { capture_ = 0; }

void BlockCache::free_pool(PoolId pool) {
  const auto it = pools_.find(pool);
  if (it == pools_.end()) return;
  for (auto h = holders_.begin(); h != holders_.end();) {
    std::vector<PoolId>& pools = h->second;
    pools.erase(std::remove(pools.begin(), pools.end(), pool), pools.end());
    h = pools.empty() ? holders_.erase(h) : std::next(h);
  }
  // Its released blocks: to a pool that still holds them, else to the shared cache.
  const FreeLists released = std::move(it->second);
  pools_.erase(it);
  for (const auto& [size, list] : released)
    for (void* ptr : list) {
      const auto h = holders_.find(ptr);
      (h != holders_.end() ? pools_[h->second.back()][size] : shared_[size]).push_back(ptr);
    }
  if (capture_ == pool) capture_ = 0;
}

size_t BlockCache::pool_blocks(PoolId pool) const {
  size_t n = 0;
  for (const auto& [ptr, pools] : holders_) n += std::find(pools.begin(), pools.end(), pool) != pools.end();
  return n;
}

}  // namespace facet
