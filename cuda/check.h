#pragma once
// Error checks for every CUDA and cuBLAS call, and after every kernel launch: a failure becomes a
// facet::Error naming the call, its file and line, and the runtime's own error string.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "core/error.h"

namespace facet::cuda {

// Clears the runtime's last error first: a failed call leaves it set, and the next launch check
// (cudaGetLastError) would report it again against a launch that did nothing wrong.
[[noreturn]] inline void fail(const char* call, const char* file, int line, const std::string& what) {
  cudaGetLastError();
  throw Error("cuda", std::string("success from ") + call + " (" + file + ":" + std::to_string(line) + ")", what);
}

inline const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "an unknown cuBLAS status";
  }
}

}  // namespace facet::cuda

#define FACET_CUDA_CHECK(call)                                                                \
  do {                                                                                        \
    const cudaError_t facet_status_ = (call);                                                 \
    if (facet_status_ != cudaSuccess)                                                         \
      ::facet::cuda::fail(#call, __FILE__, __LINE__, cudaGetErrorString(facet_status_));      \
  } while (0)

#define FACET_CUBLAS_CHECK(call)                                                              \
  do {                                                                                        \
    const cublasStatus_t facet_status_ = (call);                                              \
    if (facet_status_ != CUBLAS_STATUS_SUCCESS)                                               \
      ::facet::cuda::fail(#call, __FILE__, __LINE__, ::facet::cuda::cublas_status_name(facet_status_)); \
  } while (0)

// After every <<<...>>>: a bad launch configuration surfaces here, not at some later call.
#define FACET_CUDA_CHECK_LAUNCH() FACET_CUDA_CHECK(cudaGetLastError())
