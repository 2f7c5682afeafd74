// The host caching allocator: size classes, reuse of released large blocks, statistics.
#include "core/host_allocator.h"
#include "tests/helpers.h"

using namespace facet;

TEST_CASE("size classes: 64-byte multiples when small, eight steps per power of two when large") {
  CHECK(HostAllocator::size_class(0) == 64);
  CHECK(HostAllocator::size_class(1) == 64);
  CHECK(HostAllocator::size_class(65) == 128);
  const size_t mib = size_t{1} << 20;
  CHECK(HostAllocator::size_class(mib) == mib);
  CHECK(HostAllocator::size_class(mib + 1) == mib + mib / 8);
  CHECK(HostAllocator::size_class(3 * mib) == 3 * mib);
  CHECK(HostAllocator::size_class(64 * mib + 1) == 72 * mib);
  for (size_t bytes : {mib + 12345, 5 * mib + 7, 100 * mib + 3}) {
    const size_t c = HostAllocator::size_class(bytes);
    CHECK(c >= bytes);
    CHECK(c <= bytes + bytes / 8);
  }
}

TEST_CASE("released large blocks are reused and counted") {
  HostAllocator::empty_cache();
  const HostMemoryStats before = HostAllocator::stats();
  CHECK(before.cached_bytes == 0);
  const size_t bytes = size_t{4} << 20;
  void* first = HostAllocator::allocate(bytes);
  CHECK(reinterpret_cast<uintptr_t>(first) % HostAllocator::kAlignment == 0);
  CHECK(HostAllocator::stats().current_bytes == before.current_bytes + bytes);
  CHECK(HostAllocator::stats().peak_bytes >= before.current_bytes + bytes);
  HostAllocator::release(first, bytes);
  CHECK(HostAllocator::stats().current_bytes == before.current_bytes);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(HostAllocator::stats().cached_bytes == bytes);
  void* second = HostAllocator::allocate(bytes);
  CHECK(second == first);  // the cached block came back
  CHECK(HostAllocator::stats().cached_bytes == 0);
  HostAllocator::release(second, bytes);
#endif
  HostAllocator::empty_cache();
  CHECK(HostAllocator::stats().cached_bytes == 0);
}

TEST_CASE("a tensor's storage returns to the cache when its last handle goes") {
  HostAllocator::empty_cache();
  const size_t in_use = HostAllocator::stats().current_bytes;
  {
    const Tensor t = zeros({1 << 20});  // 4 MiB
    CHECK(HostAllocator::stats().current_bytes == in_use + (size_t{4} << 20));
    const Tensor v = t.reshape({1024, 1024});
  }
  CHECK(HostAllocator::stats().current_bytes == in_use);
}
