#include "core/block_cache.h"

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
  if (capturing()) owner_[ptr] = capture_;
  stats_.current_bytes += size;
  if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
}

void BlockCache::give_back(void* ptr, size_t size) {
  stats_.current_bytes -= size;
  stats_.cached_bytes += size;
  auto it = owner_.find(ptr);
  if (it == owner_.end() && capturing()) it = owner_.emplace(ptr, capture_).first;
  if (it != owner_.end())
    pools_[it->second][size].push_back(ptr);
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
  for (auto& [size, list] : it->second) shared_[size].insert(shared_[size].end(), list.begin(), list.end());
  pools_.erase(it);
  for (auto o = owner_.begin(); o != owner_.end();) o = o->second == pool ? owner_.erase(o) : std::next(o);
  if (capture_ == pool) capture_ = 0;
}

size_t BlockCache::pool_blocks(PoolId pool) const {
  size_t n = 0;
  for (const auto& [ptr, owner] : owner_) n += owner == pool;
  return n;
}

}  // namespace facet
