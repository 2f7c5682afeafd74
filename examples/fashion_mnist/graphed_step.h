#pragma once
// train --cuda-graph: the training step captured once as a CUDA graph and replayed for every later
// batch, one host call a step instead of one per kernel (cuda/graph.h says what a graph can hold).
#include "examples/fashion_mnist/run.h"
#include "facet.h"

namespace example {

class GraphedTrainStep {
 public:
  // Captures train_step(model, opt, ...) on the graph's own copies of x and y, which live on a CUDA
  // device. `opt` must be a capturable SGD that has already stepped (its momentum buffers and its
  // device rate exist): take eager steps first. Nothing is trained by the capture itself.
  GraphedTrainStep(TrainModel& model, facet::optim::Optimizer& opt, const facet::Tensor& x, const facet::Tensor& y);
  // The step train_step would take on x and y (shaped and typed like the captured batch, on its device):
  // copies them into the graph's inputs and replays. The results are rewritten by the next replay.
  StepResult operator()(const facet::Tensor& x, const facet::Tensor& y);

 private:
  facet::Tensor x_, y_;
  StepResult out_;
  facet::cuda::Graph graph_;
};

}  // namespace example
