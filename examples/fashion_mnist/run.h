#pragma once
// What train and verify share: the device choice, the data with its normalization, the model
// (a backbone and a head under one module, so one checkpoint holds both), and evaluation.
#include <cstdint>
#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/transforms.h"
#include "examples/fashion_mnist/heads.h"
#include "examples/fashion_mnist/models.h"
#include "facet.h"

namespace example {

// "auto" is CUDA when a GPU is there, else the CPU; "cuda" without a GPU is a facet::Error.
facet::Device pick_device(const std::string& name);

// A split of the MNIST-format folder, cut to its first `limit` samples when limit > 0.
facet::data::TensorDataset load_split(const std::string& dir, facet::data::Split split, int64_t limit);

// Fashion-MNIST's training-set mean and standard deviation (0.2860, 0.3530).
facet::data::Transform fashion_normalize();

class TrainModel : public facet::nn::Module {
 public:
  TrainModel(const std::string& model, const std::string& head, int64_t feat_dim, const std::string& margin = "",
             int64_t width = 0);
  std::shared_ptr<Backbone> backbone;
  std::shared_ptr<Head> head;
};

// One optimizer step on a batch: backbone forward, the head's loss, zero_grad, backward, the
// optimizer's step, then the head's after-step update. Returns the features and the loss.
struct StepResult {
  facet::Tensor features, loss;
};
StepResult train_step(TrainModel& model, facet::optim::Optimizer& opt, const facet::Tensor& x, const facet::Tensor& y);

// Correct predictions (argmax of scores [B, C] against labels [B]): as an int64 scalar on the
// scores' device (no wait), or read back to the host.
facet::Tensor correct_count(const facet::Tensor& scores, const facet::Tensor& labels);
int64_t count_correct(const facet::Tensor& scores, const facet::Tensor& labels);

struct Evaluation {
  double accuracy = 0;
  facet::Tensor features;  // [N, feat_dim] on the CPU, when asked for
  facet::Tensor labels;    // [N]
  // With flip_test: the accuracy of the flip test, and its features when asked for.
  double flip_accuracy = 0;
  facet::Tensor flip_features;
};

// Test-set accuracy in eval mode; the features too when keep_features. flip_test adds, in the
// same pass, the flip test: the head's scores of the mean of the features of each image and of
// its mirror image (face recognition's evaluations concatenate or add the two).
Evaluation evaluate(TrainModel& model, const facet::data::TensorDataset& set, facet::Device device, bool keep_features,
                    bool flip_test = false);

// "x y label" lines of 2-D features (normalized first when `normalized`), for plot_features.
void write_features(const Evaluation& eval, bool normalized, const std::string& path);

}  // namespace example
