#include "examples/fashion_mnist/options.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"
#include "examples/fashion_mnist/models.h"

namespace example {

namespace {

const char* kUsage =
    "usage: train [--head softmax|center|cosface|arcface|sphereface|combined|subcenter]\n"
    "             [--model lenetpp|cnn|resnet] [--width W] [--feat-dim N] [--epochs N] [--batch N] [--lr X]\n"
    "             [--margin M | M1,M2,M3]\n"
    "             [--device auto|cpu|cuda] [--seed N] [--out DIR] [--data DIR] [--resume]\n"
    "             [--limit N] [--augment 0|1] [--erase P] [--quiet] [--stop-after EPOCH] [--cuda-graph]\n"
    "Trains on Fashion-MNIST (any MNIST-format folder with --data), prints test accuracy each epoch,\n"
    "and writes DIR/model.safetensors, DIR/metrics.csv, DIR/curves.png (and DIR/features.png for\n"
    "--feat-dim 2). --resume continues the run in DIR from its last finished epoch. --margin replaces the\n"
    "head's margin: m for cosface, arcface and subcenter, a whole m for sphereface, m1,m2,m3 for combined.\n"
    "--erase P erases a random rectangle of each training image with probability P (Zhong et al.'s\n"
    "random erasing, after normalization; default 0: off).\n"
    "--width W sets the ResNet's channels: W, 2W and 4W at its three stages (default 32).\n"
    "--cuda-graph (on a GPU, not sphereface) captures the training step once and replays it.\n";

// The shortest text that reads back as the same double ("0.05", not 0.05's 17 digits): --resume
// compares the flags with config.txt exactly.
std::string round_trip_text(double x) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
  return std::string(buffer, end);
}

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "train: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

int64_t to_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  usage_error(flag + " wants a whole number, got \"" + v + "\"");
}

double to_double(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const double x = std::stod(v, &used);
    if (used == v.size()) return x;
  } catch (const std::exception&) {
  }
  usage_error(flag + " wants a number, got \"" + v + "\"");
}

void set(Options& o, const std::string& key, const std::string& v) {
  if (key == "--head") o.head = v;
  else if (key == "--model") o.model = v;
  else if (key == "--feat-dim") o.feat_dim = to_int(key, v);
  else if (key == "--width") {
    o.width = to_int(key, v);
    if (o.width < 1) usage_error("--width must be positive");
  }
  else if (key == "--epochs") o.epochs = to_int(key, v);
  else if (key == "--batch") o.batch = to_int(key, v);
  else if (key == "--lr") o.lr = to_double(key, v);
  else if (key == "--margin") o.margin = v;
  else if (key == "--device") o.device = v;
  else if (key == "--seed") o.seed = static_cast<uint64_t>(to_int(key, v));
  else if (key == "--out") o.out = v;
  else if (key == "--data") o.data = v;
  else if (key == "--limit") o.limit = to_int(key, v);
  else if (key == "--augment") o.augment = static_cast<int>(to_int(key, v));
  else if (key == "--erase") o.erase = to_double(key, v);
  else if (key == "--stop-after") o.stop_after = to_int(key, v);
  else usage_error("unknown option " + key);
}

}  // namespace

Options parse_train_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--resume") {
      o.resume = true;
      continue;
    }
    if (a == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (a == "--cuda-graph") {
      o.cuda_graph = true;
      continue;
    }
    if (i + 1 >= argc) usage_error(a + " needs a value");
    set(o, a, argv[++i]);
  }
  if (o.epochs < 1 || o.batch < 1 || o.lr <= 0 || o.limit < 0) usage_error("--epochs, --batch and --lr must be positive");
  if (o.augment < -1 || o.augment > 1) usage_error("--augment is 0 or 1");
  if (!(o.erase >= 0 && o.erase <= 1)) usage_error("--erase is a probability in [0, 1]");
  if (o.width > 0 && o.model != "resnet") usage_error("--width applies to --model resnet only");
  if (o.width == kResNetWidth) o.width = 0;  // the default spelled out is the same run, for --resume too
  if (o.device != "auto" && o.device != "cpu" && o.device != "cuda") usage_error("--device is auto, cpu or cuda");
  return o;
}

void save_config(const Options& o, const std::string& path) {
  std::ostringstream s;
  s << "head " << o.head << "\nmodel " << o.model << "\nfeat-dim " << o.feat_dim << "\nepochs " << o.epochs
    << "\nbatch " << o.batch << "\nlr " << round_trip_text(o.lr) << "\nseed " << o.seed << "\ndata " << o.data << "\nlimit " << o.limit
    << "\naugment " << o.augment << "\n";
  if (!o.margin.empty()) s << "margin " << o.margin << "\n";
  if (o.erase > 0) s << "erase " << round_trip_text(o.erase) << "\n";  // absent in runs from before --erase
  if (o.width > 0) s << "width " << o.width << "\n";                      // absent in runs from before --width
  facet::write_file_atomically(path, s.str(), "save_config");
}

Options load_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw facet::Error("load_config", "a run folder with config.txt (written by train)", "no file " + path);
  Options o;
  std::string key, value;
  // A value that is not all number is a facet::Error naming the file and the key, not std::stoll's.
  auto number = [&](auto parse) {
    try {
      size_t used = 0;
      const auto x = parse(value, &used);
      if (used == value.size()) return x;
    } catch (const std::exception&) {
    }
    throw facet::Error("load_config", "a number for " + key + " in " + path, "\"" + value + "\"");
  };
  auto whole = [&] { return number([](const std::string& v, size_t* used) { return std::stoll(v, used); }); };
  auto real = [&] { return number([](const std::string& v, size_t* used) { return std::stod(v, used); }); };
  while (f >> key >> value) {
    if (key == "head") o.head = value;
    else if (key == "model") o.model = value;
    else if (key == "feat-dim") o.feat_dim = whole();
    else if (key == "epochs") o.epochs = whole();
    else if (key == "batch") o.batch = whole();
    else if (key == "lr") o.lr = real();
    else if (key == "seed") o.seed = number([](const std::string& v, size_t* used) { return std::stoull(v, used); });
    else if (key == "data") o.data = value;
    else if (key == "limit") o.limit = whole();
    else if (key == "augment") o.augment = static_cast<int>(whole());
    else if (key == "margin") o.margin = value;
    else if (key == "erase") o.erase = real();
    else if (key == "width") o.width = whole();
    else throw facet::Error("load_config", "known keys in " + path, "\"" + key + "\"");
  }
  return o;
}

}  // namespace example
