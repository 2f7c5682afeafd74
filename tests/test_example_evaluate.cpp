// The example's evaluation: the flip test's features are the mean of those of each image and of
// its mirror (taken here through data::hflip, a path of its own), its accuracy is that of the
// scores of those features, and mirroring the test set leaves the flip test unchanged.
#include "examples/fashion_mnist/run.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

data::TensorDataset mirrored(const data::TensorDataset& set) {
  Tensor images = empty(set.images().shape());
  for (int64_t i = 0; i < set.size(); ++i)
    ops::copy_(ops::narrow(images, 0, i, 1), ops::unsqueeze(data::hflip(ops::squeeze(ops::narrow(set.images(), 0, i, 1), 0)), 0));
  return data::TensorDataset(images, set.labels());
}

std::vector<double> as_doubles(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  return {v.begin(), v.end()};
}

}  // namespace

TEST_SUITE("example") {
  TEST_CASE("the flip test scores the mean of the features of each image and of its mirror image") {
    manual_seed(11);
    example::TrainModel model("cnn", "cosface", 8);
    // A few steps so that BatchNorm's running statistics are the data's and the weights have moved.
    optim::SGD opt(model.parameters(), optim::SGDOptions(0.05).momentum(0.9));
    const Tensor images = rand({12, 1, 28, 28}), labels = tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
    for (int step = 0; step < 3; ++step) example::train_step(model, opt, images, labels);
    const data::TensorDataset set(images, labels);

    const example::Evaluation plain = example::evaluate(model, set, Device::cpu(), true);
    const example::Evaluation mirror = example::evaluate(model, mirrored(set), Device::cpu(), true);
    const example::Evaluation flip = example::evaluate(model, set, Device::cpu(), true, true);
    // The mean in float64 against the flip test's float32 mean: a rounding apart at most.
    std::vector<double> mean = as_doubles(plain.features);
    const std::vector<double> other = as_doubles(mirror.features);
    for (size_t i = 0; i < mean.size(); ++i) mean[i] = (mean[i] + other[i]) / 2;
    CHECK(tests::rel_error(flip.flip_features, mean) < 1e-6);
    CHECK(tests::rel_error(flip.flip_features, as_doubles(plain.features)) > 1e-3);  // the mirror did count
    // The same pass's plain results are evaluate's without the flip test.
    CHECK(flip.accuracy == plain.accuracy);
    CHECK(tests::rel_error(flip.features, as_doubles(plain.features)) == 0);

    NoGradGuard no_grad;
    const int64_t correct = example::count_correct(model.head->scores(flip.flip_features), labels);
    CHECK(flip.flip_accuracy == static_cast<double>(correct) / 12);

    // The test set mirrored: the same pairs of images, so the same features to a rounding.
    const example::Evaluation flip_of_mirror = example::evaluate(model, mirrored(set), Device::cpu(), true, true);
    CHECK(tests::rel_error(flip_of_mirror.flip_features, as_doubles(flip.flip_features)) < 1e-6);
  }
}
