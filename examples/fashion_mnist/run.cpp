#include "examples/fashion_mnist/run.h"

#include <sstream>

#include "core/atomic_file.h"
#include "core/ops.h"
#include "data/dataloader.h"

namespace example {

using namespace facet;

Device pick_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "cuda") {
    FACET_CHECK(cuda_device_count() > 0, "--device cuda", "a CUDA GPU", "none found");
    return Device::cuda(0);
  }
  return Device::best();
}

data::TensorDataset load_split(const std::string& dir, data::Split split, int64_t limit) {
  data::TensorDataset all = data::load_mnist(dir, split);
  if (limit <= 0 || limit >= all.size()) return all;
  return data::TensorDataset(ops::narrow(all.images(), 0, 0, limit), ops::narrow(all.labels(), 0, 0, limit));
}

data::Transform fashion_normalize() { return data::normalize({0.2860f}, {0.3530f}); }

TrainModel::TrainModel(const std::string& model, const std::string& head_name, int64_t feat_dim, const std::string& margin,
                       int64_t width)
    : Module("TrainModel") {
  backbone = register_module("backbone", make_backbone(model, feat_dim, width));
  head = register_module("head", make_head(head_name, feat_dim, 10, margin));
}

StepResult train_step(TrainModel& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
  const Tensor features = model.backbone->forward(x);
  const Tensor loss = model.head->loss(features, y);
  opt.zero_grad();
  loss.backward();
  opt.step();
  model.head->after_step(features, y);
  return {features, loss};
}

Tensor correct_count(const Tensor& scores, const Tensor& labels) { return eq(argmax(scores, 1), labels).sum(); }

int64_t count_correct(const Tensor& scores, const Tensor& labels) {
  return correct_count(scores, labels).to(Device::cpu()).item<int64_t>();
}

namespace {

// The batches' [b, dim] rows one after the other in a [rows, dim] tensor.
Tensor stacked_rows(const std::vector<Tensor>& parts, int64_t rows) {
  Tensor out = empty({rows, parts.front().size(1)});
  int64_t row = 0;
  for (const Tensor& p : parts) {
    ops::copy_(ops::narrow(out, 0, row, p.size(0)), p);
    row += p.size(0);
  }
  return out;
}

}  // namespace

Evaluation evaluate(TrainModel& model, const data::TensorDataset& set, Device device, bool keep_features, bool flip_test) {
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  data::DataLoader loader(set, data::DataLoaderOptions(1000).transform(fashion_normalize()));
  Evaluation eval;
  int64_t correct = 0, flip_correct = 0;
  std::vector<Tensor> parts, flip_parts;
  for (auto& batch : loader) {
    const Tensor x = batch.x.to(device), y = batch.y.to(device);
    const Tensor features = model.backbone->forward(x);
    correct += count_correct(model.head->scores(features), y);
    if (keep_features) parts.push_back(features.to(Device::cpu()));
    if (flip_test) {
      const Tensor columns_reversed = arange(x.size(3) - 1, -1, -1, kInt64, device);
      const Tensor mean = (features + model.backbone->forward(ops::index_select(x, 3, columns_reversed))) * 0.5;
      flip_correct += count_correct(model.head->scores(mean), y);
      if (keep_features) flip_parts.push_back(mean.to(Device::cpu()));
    }
  }
  eval.accuracy = static_cast<double>(correct) / set.size();
  eval.flip_accuracy = static_cast<double>(flip_correct) / set.size();
  eval.labels = set.labels();
  if (keep_features) eval.features = stacked_rows(parts, set.size());
  if (keep_features && flip_test) eval.flip_features = stacked_rows(flip_parts, set.size());
  model.train(was_training);
  return eval;
}

void write_features(const Evaluation& eval, bool normalized, const std::string& path) {
  const Tensor f = normalized ? ops::normalize(eval.features, 1, 1e-12) : eval.features;
  const std::vector<float> v = f.to_vector<float>();
  const std::vector<int64_t> y = eval.labels.to_vector<int64_t>();
  std::ostringstream out;
  for (size_t i = 0; i < y.size(); ++i) out << v[2 * i] << ' ' << v[2 * i + 1] << ' ' << y[i] << '\n';
  write_file_atomically(path, out.str(), "write_features");
}

}  // namespace example
