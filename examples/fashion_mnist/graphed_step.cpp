#include "examples/fashion_mnist/graphed_step.h"

#include "core/ops.h"

namespace example {

using namespace facet;

GraphedTrainStep::GraphedTrainStep(TrainModel& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
  FACET_CHECK(x.defined() && y.defined() && x.device().is_cuda() && y.device() == x.device(), "GraphedTrainStep",
              "images and labels on one CUDA device", x.describe() + " and " + y.describe());
  x_ = x.clone();
  y_ = y.clone();
  graph_.capture(x.device().index, [&] { out_ = train_step(model, opt, x_, y_); });
}

StepResult GraphedTrainStep::operator()(const Tensor& x, const Tensor& y) {
  FACET_CHECK(x.shape() == x_.shape() && y.shape() == y_.shape() && x.dtype() == x_.dtype() && y.dtype() == y_.dtype(),
              "GraphedTrainStep",
              "a batch shaped and typed like the captured one, " + x_.describe() + " and " + y_.describe(),
              x.describe() + " and " + y.describe());
  ops::copy_(x_, x);  // copy_ names a batch on another device
  ops::copy_(y_, y);
  graph_.replay();
  return out_;
}

}  // namespace example
