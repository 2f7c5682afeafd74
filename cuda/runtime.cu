// Device discovery. Safe on machines with the toolkit but no driver or no GPU: the runtime
// then reports an error code, which means "no devices" here, never an abort at start-up.
#include <cuda_runtime.h>

// The shared per-element headers are compiled by nvcc here too, so CI catches host-only code in them.
#include "core/elementwise_math.h"
#include "core/philox.h"
#include "cuda/runtime.h"

namespace facet::cuda {

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later calls start clean
      return 0;
    }
    return n;
  }();
  return count;
}

}  // namespace facet::cuda
