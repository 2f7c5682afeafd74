// CUDA device discovery. This suite runs only where a GPU is found; elsewhere it is counted as
// skipped. The CUDA kernels and their parity tests arrive with the CUDA backend.
#include "cuda/graph.h"
#include "cuda/runtime.h"
#include "tests/helpers.h"

using namespace facet;

// Runs in every build: an index past the last device is always out of range, and a build without
// CUDA names what it lacks instead.
TEST_CASE("the CUDA entry points that take a device index refuse one out of range") {
  const int count = cuda_device_count();
  const std::string range = "a device index in [0, " + std::to_string(count) + ")";
  for (const int device : {count, -1}) {
    const auto want = [&](std::vector<std::string> cuda_build, std::vector<std::string> no_cuda) {
      return built_with_cuda() ? cuda_build : no_cuda;
    };
    tests::expect_error([&] { cuda::memory_stats(device); },
                        want({"cuda memory", range, std::to_string(device)}, {"cuda memory_stats", "a build without CUDA"}));
    tests::expect_error([&] { cuda::reset_peak_memory_stats(device); },
                        want({"cuda memory", range}, {"cuda reset_peak_memory_stats", "a build without CUDA"}));
    tests::expect_error([&] { cuda::empty_cache(device); },
                        want({"cuda memory", range}, {"cuda empty_cache", "a build without CUDA"}));
    cuda::Graph graph;
    bool ran = false;
    tests::expect_error([&] { graph.capture(device, [&] { ran = true; }); },
                        want({"cuda::Graph::capture", range}, {"cuda::Graph::capture", "a build without CUDA"}));
    CHECK_FALSE(ran);
    CHECK_FALSE(graph.captured());
  }
}

TEST_SUITE("cuda") {
  TEST_CASE("[cuda] a CUDA build with a GPU picks it as the best device") {
    REQUIRE(built_with_cuda());
    REQUIRE(cuda_device_count() > 0);
    CHECK(Device::best() == Device::cuda(0));
    CHECK(Device::cuda(0).str() == "cuda:0");
    tests::expect_error([] { Device::cuda(cuda_device_count()); }, {"Device::cuda", "device index"});
  }
}
