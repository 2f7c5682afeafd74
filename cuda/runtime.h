#pragma once
// Plain C++ view of the CUDA runtime, so that core/ can ask about devices without CUDA headers.
namespace facet::cuda {

// Usable devices; 0 (never a crash) when the driver or the GPU is missing.
int device_count();

}  // namespace facet::cuda
