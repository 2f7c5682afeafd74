#pragma once
// FACET_HD marks per-element math that both backends share: under nvcc it becomes
// __host__ __device__, under plain g++ it is empty, so the CPU tests exercise the same code
// that the CUDA kernels run.
#if defined(__CUDACC__)
#define FACET_HD __host__ __device__
#else
#define FACET_HD
#endif
