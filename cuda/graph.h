#pragma once
// CUDA graphs, plain C++ like cuda/runtime.h (a build without CUDA refuses them with a facet::Error
// from cuda/unavailable.cpp).
#include <functional>
#include <memory>

#include "core/device.h"

namespace facet::cuda {

// A step captured once and replayed (cuda/graph.cu), as torch.cuda.CUDAGraph.
// capture() calls `body` once while the stream of cuda:`device` records instead of running: every
// kernel and device-to-device copy that body queues becomes one graph, and replay() launches them
// all with one call (one host call a step instead of one per kernel). Nothing runs during the
// capture, so the tensors body makes hold nothing useful until the first replay. Each replay
// repeats the captured work on the same memory with the same host values:
// - inputs: keep the tensors body read alive and copy new data into them (copy_) before replay();
// - outputs: tensors made during the capture are rewritten by every replay: keep them to read them;
// - memory: what the capture allocates or releases stays the graph's until the graph is destroyed;
// - host values baked into kernels stay as captured: a plain SGD's learning rate (a capturable one,
//   SGDOptions::capturable, reads it from device memory that set_lr refills), the first step.
// Warm up before capturing (run body eagerly once or twice): handles, cuDNN's choices and the
// optimizer's state are made on first use, outside any graph. Index checks queued in the capture
// are checked again after every replay, at the next wait. Refused with a facet::Error, leaving no
// graph and a usable device: a host wait inside body (a copy to or from host memory, item(),
// synchronize), random draws (dropout), SphereFace's annealed lambda (a host-side step count), a
// second capture on the same device, capturing twice into one Graph.
class Graph {
 public:
  Graph();
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  void capture(int device, const std::function<void()>& body);
  void replay();
  bool captured() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};
// Whether a Graph is capturing the stream of `device` now (false in a build without CUDA).
bool is_capturing(int device);
// The same for any device: false for the CPU, whose work a capture never records.
inline bool is_capturing(const Device& device) { return device.is_cuda() && is_capturing(device.index); }

}  // namespace facet::cuda
