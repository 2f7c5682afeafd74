#pragma once
#include <string>

namespace facet {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  // Checks that the index names a device that exists (facet::Error otherwise).
  static Device cuda(int index = 0);
  // CUDA device 0 when this build has CUDA and a GPU is present, else the CPU.
  static Device best();

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

// Whether this library was compiled with the CUDA backend.
bool built_with_cuda();
// Number of usable CUDA devices; 0 in a build without CUDA, with no driver or with no GPU.
int cuda_device_count();
// facet::Error naming `op` unless the device can hold memory and run kernels in this process.
void check_device_exists(const char* op, Device device);

}  // namespace facet
