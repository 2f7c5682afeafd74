// CUDA device discovery. This suite runs only where a GPU is found; elsewhere it is counted as
// skipped. The CUDA kernels and their parity tests arrive with the CUDA backend.
#include "tests/helpers.h"

using namespace facet;

TEST_SUITE("cuda") {
  TEST_CASE("[cuda] a CUDA build with a GPU picks it as the best device") {
    REQUIRE(built_with_cuda());
    REQUIRE(cuda_device_count() > 0);
    CHECK(Device::best() == Device::cuda(0));
    CHECK(Device::cuda(0).str() == "cuda:0");
    tests::expect_error([] { Device::cuda(cuda_device_count()); }, {"Device::cuda", "device index"});
  }
}
