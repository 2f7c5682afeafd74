#pragma once
// The command line of examples/fashion_mnist/train (and the run configuration examples/verify
// reads back from a run's folder).
#include <cstdint>
#include <string>

namespace example {

struct Options {
  std::string head = "softmax";
  std::string model = "cnn";
  int64_t feat_dim = 128;
  int64_t width = 0;       // --width: the ResNet's channels at its first stage (0: models.h's kResNetWidth)
  int64_t epochs = 15;
  int64_t batch = 256;
  double lr = 0.1;
  std::string margin;  // --margin: "" for the head's own (heads.h)
  std::string device = "auto";
  uint64_t seed = 1;
  std::string out = "runs/fashion";
  std::string data = "/usr/share/datasets/fashion-mnist";
  bool resume = false;
  int64_t limit = 0;       // train on the first `limit` images only (0: all 60 000)
  int augment = -1;        // random crop and flip; -1: on for cnn and resnet, off for lenetpp
  double erase = 0;        // random erasing's probability after normalization (0: off)
  bool quiet = false;      // no progress bar, one line per epoch
  bool cuda_graph = false; // after two eager steps, replay the step captured as a CUDA graph
  int64_t stop_after = 0;  // stop after this epoch, as an interrupted run would (for --resume checks)
};

// Parses argv; --help prints the usage and exits 0; a bad flag prints why and the usage, exits 2.
Options parse_train_options(int argc, char** argv);

// "key value" lines in DIR/config.txt, written atomically; read back by verify and --resume.
void save_config(const Options& options, const std::string& path);
Options load_config(const std::string& path);

}  // namespace example
