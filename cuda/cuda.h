#pragma once
// CUDA kernels: the interface of core/backend_kernels.h, one .cu file per family. Each call makes
// the output's device current and launches on that device's stream.
#include "core/backend_kernels.h"

namespace facet::cuda {
FACET_BACKEND_KERNELS(FACET_DECLARE_KERNEL)
}  // namespace facet::cuda
