// Trains a backbone and a loss head on Fashion-MNIST: SGD with momentum, a cosine schedule with
// linear warm-up (one epoch, or a quarter of a shorter run; per iteration), test accuracy after each epoch, a checkpoint after
// each epoch that --resume continues from, and the pictures (training curves; with --feat-dim 2,
// the test features coloured by class). With --cuda-graph a GPU replays the step captured as a CUDA
// graph after two eager steps. `train --help` lists the flags.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "data/dataloader.h"
#include "data/dataset.h"
#include "data/transforms.h"
#include "examples/fashion_mnist/graphed_step.h"
#include "examples/fashion_mnist/heads.h"
#include "examples/fashion_mnist/models.h"
#include "examples/fashion_mnist/options.h"
#include "examples/fashion_mnist/plots.h"
#include "examples/fashion_mnist/run.h"
#include "facet.h"

using namespace facet;
using namespace example;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string clock_text(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

// A live bar on a terminal; on a pipe or file, nothing until the epoch's closing line.
class Progress {
 public:
  Progress(int64_t epoch, int64_t epochs, int64_t batches, bool live)
      : epoch_(epoch), epochs_(epochs), batches_(batches), live_(live), start_(Clock::now()), drawn_(start_) {}
  // Whether to redraw now: a few times a second on a terminal, never otherwise. Drawing reads the
  // running totals back from the device, the only wait in a GPU epoch, so it is rationed.
  bool due() {
    if (!live_ || seconds_since(drawn_) < 0.25) return false;
    drawn_ = Clock::now();
    return true;
  }
  void update(int64_t done, double loss, double acc, int64_t images) {
    if (!live_) return;
    const double t = seconds_since(start_);
    const int width = 24, filled = static_cast<int>(width * done / batches_);
    std::printf("\repoch %lld/%lld [%s%s] %lld/%lld loss %.4f acc %.2f%% %.0f img/s ETA %s   ",
                static_cast<long long>(epoch_ + 1), static_cast<long long>(epochs_), std::string(filled, '#').c_str(),
                std::string(width - filled, '.').c_str(), static_cast<long long>(done), static_cast<long long>(batches_),
                loss, 100 * acc, images / std::max(t, 1e-9), clock_text(t / done * (batches_ - done)).c_str());
    std::fflush(stdout);
  }
  void finish() {
    if (live_) std::printf("\r%s\r", std::string(110, ' ').c_str());
  }
  double seconds() const { return seconds_since(start_); }

 private:
  int64_t epoch_, epochs_, batches_;
  bool live_;
  Clock::time_point start_, drawn_;
};

// The last finished epoch of a run folder (from DIR/latest.txt), or 0.
int64_t latest_epoch(const std::string& dir) {
  std::ifstream f(dir + "/latest.txt");
  std::string word;
  int64_t epoch = 0;
  if (f >> word >> epoch && word == "epoch") return epoch;
  return 0;
}

// The rows of metrics.csv for epochs up to `epochs` (a resumed run rewrites the rest).
std::vector<std::string> metric_rows(const std::string& path, int64_t epochs) {
  std::vector<std::string> rows;
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line) && static_cast<int64_t>(rows.size()) < epochs) rows.push_back(line);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_train_options(argc, argv);
  try {
    // Checked before DIR is made, so a refused run leaves nothing behind.
    const Device device = pick_device(o.device);
    FACET_CHECK(!o.cuda_graph || device.is_cuda(), "--cuda-graph", "a CUDA device (--device cuda, or auto with a GPU)",
                device.str());
    FACET_CHECK(!o.cuda_graph || o.head != "sphereface", "--cuda-graph",
                "a head a graph can replay (not sphereface: its lambda anneals on the host)", "sphereface");
    fs::create_directories(o.out);
    const std::string config_path = o.out + "/config.txt";
    int64_t start_epoch = 0;
    if (o.resume) {
      const Options saved = load_config(config_path);
      FACET_CHECK(saved.head == o.head && saved.model == o.model && saved.feat_dim == o.feat_dim && saved.batch == o.batch &&
                      saved.seed == o.seed && saved.limit == o.limit && saved.lr == o.lr && saved.augment == o.augment &&
                      saved.margin == o.margin && saved.erase == o.erase && saved.width == o.width,
                  "--resume", "the flags of the run in " + o.out + " (see its config.txt)", "different flags");
      start_epoch = latest_epoch(o.out);
      FACET_CHECK(start_epoch > 0, "--resume", "a finished epoch in " + o.out, "none (no latest.txt)");
      if (start_epoch >= o.epochs) {
        std::printf("%s already finished %lld epochs (of --epochs %lld): nothing to resume\n", o.out.c_str(),
                    static_cast<long long>(start_epoch), static_cast<long long>(o.epochs));
        return 0;
      }
    }
    manual_seed(o.seed);
    data::TensorDataset train_set = load_split(o.data, data::Split::Train, o.limit);
    const data::TensorDataset test_set = load_split(o.data, data::Split::Test, 0);
    const bool augment = o.augment == -1 ? o.model != "lenetpp" : o.augment == 1;
    std::vector<data::Transform> steps;
    if (augment) {
      steps.push_back(data::random_crop(28, 28, 2));
      steps.push_back(data::random_horizontal_flip());
    }
    steps.push_back(fashion_normalize());
    if (o.erase > 0) steps.push_back(data::random_erasing(o.erase));  // erased to the mean
    data::DataLoader loader(train_set, data::DataLoaderOptions(o.batch)
                                           .shuffle(true)
                                           .drop_last(true)
                                           .seed(o.seed)
                                           .transform(data::compose(steps))
                                           .pin_memory(device.is_cuda()));
    FACET_CHECK(loader.num_batches() > 0, "train", "at least one full batch of " + std::to_string(o.batch) + " images",
                std::to_string(train_set.size()) + " training images");

    TrainModel model(o.model, o.head, o.feat_dim, o.margin, o.width);
    // Written once the data, the model and the head's margin are known to be good.
    save_config(o, config_path);
    model.to(device);
    optim::SGD opt(model.parameters(),
                   optim::SGDOptions(o.lr).momentum(0.9).weight_decay(5e-4).nesterov(true).capturable(o.cuda_graph));
    const int64_t batches = loader.num_batches();
    // Warm-up: one epoch, or a quarter of a short run.
    optim::CosineWarmupLR schedule(opt, std::min(batches, o.epochs * batches / 4), o.epochs * batches);
    std::vector<std::string> rows;
    if (start_epoch > 0) {
      const std::string dir = o.out + "/epoch-" + std::to_string(start_epoch);
      nn::load(model, dir + "/model.safetensors");
      opt.load(dir + "/optimizer.safetensors");
      for (int64_t i = 0; i < start_epoch * batches; ++i) schedule.step();
      rows = metric_rows(o.out + "/metrics.csv", start_epoch);
      std::printf("resuming %s after epoch %lld\n", o.out.c_str(), static_cast<long long>(start_epoch));
    }
    char erase_text[32] = "";
    if (o.erase > 0) std::snprintf(erase_text, sizeof erase_text, ", erase %g", o.erase);
    const std::string model_text = o.model + (o.width > 0 ? " (width " + std::to_string(o.width) + ")" : "");
    std::printf("facet %s: %s + %s%s, %lld-d features, %lld training images, batch %lld, lr %g, %s%s%s\n", o.out.c_str(),
                model_text.c_str(), o.head.c_str(), o.margin.empty() ? "" : (" (margin " + o.margin + ")").c_str(),
                static_cast<long long>(o.feat_dim),
                static_cast<long long>(train_set.size()), static_cast<long long>(o.batch), o.lr, device.str().c_str(),
                augment ? ", crop+flip" : "", erase_text);

    const bool live = !o.quiet && isatty(fileno(stdout));
    std::unique_ptr<GraphedTrainStep> graphed;  // --cuda-graph: captured after two eager steps
    int64_t eager_steps = 0;
    double test_acc = 0, flip_acc = 0;
    for (int64_t epoch = start_epoch; epoch < o.epochs; ++epoch) {
      model.train();
      loader.set_epoch(epoch);
      Progress progress(epoch, o.epochs, batches, live);
      // Running totals stay on the device (float64, summed in batch order: the host's sum exactly),
      // so a GPU step never waits for the host to read its loss.
      Tensor loss_total = zeros({}, kFloat64, device), correct_total = zeros({}, kInt64, device);
      int64_t seen = 0, done = 0;
      for (auto& batch : loader) {
        const Tensor x = batch.x.to(device), y = batch.y.to(device);
        if (o.cuda_graph && !graphed && eager_steps == 2) graphed = std::make_unique<GraphedTrainStep>(model, opt, x, y);
        const auto [features, loss] = graphed ? (*graphed)(x, y) : train_step(model, opt, x, y);
        if (!graphed) ++eager_steps;
        schedule.step();
        {
          NoGradGuard no_grad;
          correct_total = correct_total + correct_count(model.head->scores(features.detach()), y);
          loss_total = loss_total + loss.detach().to(kFloat64);
        }
        seen += x.size(0);
        ++done;
        if (progress.due())
          progress.update(done, loss_total.item<double>() / done, static_cast<double>(correct_total.item<int64_t>()) / seen, seen);
      }
      progress.finish();
      const double loss_sum = loss_total.item<double>();
      const int64_t correct = correct_total.item<int64_t>();
      const Evaluation eval = evaluate(model, test_set, device, o.feat_dim == 2, epoch + 1 == o.epochs);
      test_acc = eval.accuracy;
      flip_acc = eval.flip_accuracy;
      char row[160];
      std::snprintf(row, sizeof row, "%lld,%.6f,%.6f,%.6f,%.1f", static_cast<long long>(epoch + 1), loss_sum / done,
                    static_cast<double>(correct) / seen, test_acc, progress.seconds());
      rows.push_back(row);
      std::printf("epoch %lld/%lld  loss %.4f  train acc %.2f%%  test acc %.2f%%  %.0f img/s  %s\n",
                  static_cast<long long>(epoch + 1), static_cast<long long>(o.epochs), loss_sum / done,
                  100.0 * correct / seen, 100 * test_acc, seen / progress.seconds(), clock_text(progress.seconds()).c_str());
      std::fflush(stdout);

      // The epoch's checkpoint in a folder of its own, then latest.txt names it (written by
      // rename): a crash at any point leaves the previous epoch's checkpoint whole and named.
      const std::string dir = o.out + "/epoch-" + std::to_string(epoch + 1);
      fs::create_directories(dir);
      nn::save(model, dir + "/model.safetensors");
      opt.save(dir + "/optimizer.safetensors");
      std::string csv = "epoch,loss,train_acc,test_acc,seconds\n";
      for (const std::string& r : rows) csv += r + "\n";
      write_file_atomically(o.out + "/metrics.csv", csv, "train");
      write_file_atomically(o.out + "/latest.txt", "epoch " + std::to_string(epoch + 1) + "\n", "train");
      if (epoch > 0) fs::remove_all(o.out + "/epoch-" + std::to_string(epoch));
      if (o.feat_dim == 2) write_features(eval, model.head->angular(), o.out + "/features.tsv");
      if (epoch + 1 == o.stop_after && epoch + 1 < o.epochs) {
        std::printf("stopped after epoch %lld (--stop-after); continue with --resume\n", static_cast<long long>(epoch + 1));
        return 0;
      }
    }
    // The final weights under a fixed name, for verify.
    fs::copy_file(o.out + "/epoch-" + std::to_string(o.epochs) + "/model.safetensors", o.out + "/model.safetensors",
                  fs::copy_options::overwrite_existing);
    const std::string title = o.model + " + " + o.head;
    std::printf("test accuracy %.2f%% (flip test %.2f%%)\nmodel: %s/model.safetensors\n", 100 * test_acc, 100 * flip_acc,
                o.out.c_str());
    if (plot_curves(o.out + "/metrics.csv", o.out + "/curves.png", title + ": training curves"))
      std::printf("curves: %s/curves.png\n", o.out.c_str());
    if (o.feat_dim == 2 &&
        plot_features(o.out + "/features.tsv", o.out + "/features.png",
                      title + (model.head->angular() ? ": test feature directions, a ring per class" : ": test features"),
                      model.head->angular()))
      std::printf("features: %s/features.png\n", o.out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train: %s\n", e.what());
    return 1;
  }
}
