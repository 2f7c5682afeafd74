// Face-verification metrics for a trained run, on the Fashion-MNIST test set as the "faces": the
// test images are embedded with the run's backbone, a seeded list of same-class and
// different-class pairs is drawn (and saved), each pair is scored by the cosine of its
// embeddings, and the LFW protocol's 10-fold accuracy, TAR at FAR 1e-2 and 1e-3, and the ROC
// curve are reported.
//   verify --run DIR [--pairs 3000] [--seed 7] [--device auto|cpu|cuda]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "data/verification.h"
#include "examples/fashion_mnist/options.h"
#include "examples/fashion_mnist/plots.h"
#include "examples/fashion_mnist/run.h"
#include "facet.h"

using namespace facet;
using namespace example;

int main(int argc, char** argv) {
  std::string run_dir, device_name = "auto";
  int64_t per_kind = 3000;
  uint64_t seed = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--run") run_dir = value;
    else if (key == "--pairs") per_kind = std::atoll(value.c_str());
    else if (key == "--seed") seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "--device") device_name = value;
    else {
      std::fprintf(stderr, "verify: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (run_dir.empty() || argc % 2 == 0 || per_kind <= 0) {
    std::fprintf(stderr, "usage: verify --run DIR [--pairs N] [--seed N] [--device auto|cpu|cuda]\n");
    return 2;
  }
  try {
    const Options o = load_config(run_dir + "/config.txt");
    const Device device = pick_device(device_name);
    TrainModel model(o.model, o.head, o.feat_dim, o.margin, o.width);
    nn::load(model, run_dir + "/model.safetensors");
    model.to(device);
    const data::TensorDataset test_set = load_split(o.data, data::Split::Test, 0);
    const Evaluation eval = evaluate(model, test_set, device, true, true);

    const std::vector<data::Pair> pairs = data::make_pairs(test_set.labels(), per_kind, seed);
    data::save_pairs(pairs, run_dir + "/pairs.txt");
    const std::vector<double> scores = data::pair_scores(eval.features, pairs);
    const std::vector<bool> same = data::pair_labels(pairs);
    const data::FoldAccuracy folds = data::kfold_accuracy(scores, same, 10);
    const data::RocPoint at2 = data::tar_at_far(scores, same, 1e-2), at3 = data::tar_at_far(scores, same, 1e-3);

    std::ofstream roc(run_dir + "/roc.tsv", std::ios::trunc);
    for (const data::RocPoint& p : data::roc_curve(scores, same)) roc << p.far << ' ' << p.tar << '\n';
    roc.close();
    char summary[512];
    std::snprintf(summary, sizeof summary,
                  "%s + %s, %lld-d: test accuracy %.2f%% (flip test %.2f%%), verification (10-fold, %lld pairs) %.2f%% +- %.2f%%, "
                  "TAR %.2f%% at FAR 1e-2, TAR %.2f%% at FAR 1e-3\n",
                  o.model.c_str(), o.head.c_str(), static_cast<long long>(o.feat_dim), 100 * eval.accuracy, 100 * eval.flip_accuracy,
                  static_cast<long long>(pairs.size()), 100 * folds.mean, 100 * folds.std, 100 * at2.tar, 100 * at3.tar);
    std::fputs(summary, stdout);
    std::ofstream(run_dir + "/verify.txt", std::ios::trunc) << summary;
    std::printf("pairs: %s/pairs.txt\n", run_dir.c_str());
    if (plot_roc(run_dir + "/roc.tsv", run_dir + "/roc.png", o.model + " + " + o.head + ": verification ROC"))
      std::printf("roc: %s/roc.png\n", run_dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "verify: %s\n", e.what());
    return 1;
  }
}
