#include "core/device.h"

#include "core/error.h"
#include "cuda/runtime.h"

namespace facet {

bool built_with_cuda() { return FACET_WITH_CUDA != 0; }

int cuda_device_count() { return cuda::device_count(); }

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

void check_device_exists(const char* op, Device device) {
  if (device.is_cpu()) return;
  const int count = cuda_device_count();
  FACET_CHECK(device.index >= 0 && device.index < count, op,
              count == 0 ? std::string("a CUDA device, but ") + (built_with_cuda() ? "no GPU was found" : "this build has no CUDA")
                         : "a CUDA device index in [0, " + std::to_string(count) + ")",
              "a tensor on " + device.str());
}

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

}  // namespace facet
