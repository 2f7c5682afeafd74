#pragma once
// GPU timing shared by the CUDA benchmarks: CUDA events on facet's stream of device 0.
#include <cuda_runtime.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/runtime.h"

namespace facet::bench {

// Milliseconds per call of fn: 7 rounds of `reps` calls between two events, the median round.
inline double time_ms(int reps, const std::function<void()>& fn) {
  cudaStream_t s = cuda::stream(0);
  fn();
  cuda::synchronize(0);
  cudaEvent_t start, stop;
  FACET_CUDA_CHECK(cudaEventCreate(&start));
  FACET_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> rounds;
  for (int r = 0; r < 7; ++r) {
    FACET_CUDA_CHECK(cudaEventRecord(start, s));
    for (int i = 0; i < reps; ++i) fn();
    FACET_CUDA_CHECK(cudaEventRecord(stop, s));
    FACET_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    FACET_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    rounds.push_back(ms / reps);
  }
  FACET_CUDA_CHECK(cudaEventDestroy(start));
  FACET_CUDA_CHECK(cudaEventDestroy(stop));
  std::nth_element(rounds.begin(), rounds.begin() + 3, rounds.end());
  return rounds[3];
}

}  // namespace facet::bench
