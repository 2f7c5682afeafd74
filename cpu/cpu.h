#pragma once
// CPU kernels: the interface of core/backend_kernels.h, with OpenMP and OpenBLAS.
#include "core/backend_kernels.h"

namespace facet::cpu {
FACET_BACKEND_KERNELS(FACET_DECLARE_KERNEL)
}  // namespace facet::cpu
