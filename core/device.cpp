#include "core/device.h"

#include "core/error.h"
#if FACET_WITH_CUDA
#include "cuda/runtime.h"
#endif

namespace facet {

bool built_with_cuda() { return FACET_WITH_CUDA != 0; }

int cuda_device_count() {
#if FACET_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

Device Device::cuda(int index) {
  FACET_CHECK(built_with_cuda(), "Device::cuda", "a build with the CUDA backend",
              "a build without CUDA (rebuild where nvcc is found, without CUDA=0)");
  const int count = cuda_device_count();
  FACET_CHECK(count > 0, "Device::cuda", "a visible CUDA device", "none (no GPU, or no driver)");
  FACET_CHECK(index >= 0 && index < count, "Device::cuda",
              "a device index in [0, " + std::to_string(count) + ")",
              "index " + std::to_string(index));
  return {DeviceType::CUDA, index};
}

Device Device::best() { return cuda_device_count() > 0 ? Device{DeviceType::CUDA, 0} : cpu(); }

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

}  // namespace facet
