// The example's backbones: features [B, feat_dim] from each, the ResNet's --width reaching every
// layer (its parameter count against the count by hand), --width in config.txt, and the errors.
#include "examples/fashion_mnist/models.h"
#include "examples/fashion_mnist/options.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

int64_t parameter_count(nn::Module& m) {
  int64_t n = 0;
  for (const auto& [name, p] : m.named_parameters()) n += p.numel();
  return n;
}

std::vector<int64_t> parameter_sizes(nn::Module& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p.sizes();
  return {};
}

// A BasicBlock's weights: two 3x3 convs without bias, two BatchNorms (weight and bias), and a 1x1
// projection with its BatchNorm where the shape changes.
int64_t basic_block_count(int64_t in, int64_t out, bool projects) {
  return 9 * in * out + 9 * out * out + 4 * out + (projects ? in * out + 2 * out : 0);
}

// The ResNet of models.h at width w: stem conv and BatchNorm, six blocks, Linear and BatchNorm1d.
int64_t resnet_count(int64_t w, int64_t feat_dim) {
  return 9 * w + 2 * w + 2 * basic_block_count(w, w, false) + basic_block_count(w, 2 * w, true) +
         basic_block_count(2 * w, 2 * w, false) + basic_block_count(2 * w, 4 * w, true) +
         basic_block_count(4 * w, 4 * w, false) + 4 * w * feat_dim + feat_dim + 2 * feat_dim;
}

example::Options parsed(std::vector<const char*> args) {
  args.insert(args.begin(), "train");
  return example::parse_train_options(static_cast<int>(args.size()), const_cast<char**>(args.data()));
}

}  // namespace

TEST_SUITE("example") {
  TEST_CASE("each backbone maps [B, 1, 28, 28] images to [B, feat_dim] features") {
    const Tensor x = randn({3, 1, 28, 28});
    for (const char* name : {"lenetpp", "cnn", "resnet"}) {
      CAPTURE(name);
      CHECK(example::make_backbone(name, 5)->forward(x).sizes() == std::vector<int64_t>{3, 5});
    }
    CHECK(example::make_backbone("resnet", 5, 8)->forward(x).sizes() == std::vector<int64_t>{3, 5});
  }

  TEST_CASE("--width sets the ResNet's channels at W, 2W and 4W, and 0 is the default 32") {
    const auto narrow = example::make_backbone("resnet", 16, 8);
    CHECK(parameter_count(*narrow) == resnet_count(8, 16));
    const auto standard = example::make_backbone("resnet", 16);
    CHECK(parameter_count(*standard) == resnet_count(example::kResNetWidth, 16));
    CHECK(parameter_count(*example::make_backbone("resnet", 16, 48)) == resnet_count(48, 16));
    CHECK(parameter_sizes(*standard, "embed.weight") == std::vector<int64_t>{16, 128});
    CHECK(parameter_sizes(*narrow, "embed.weight") == std::vector<int64_t>{16, 32});
    CHECK(parameter_sizes(*narrow, "body.0.weight") == std::vector<int64_t>{8, 1, 3, 3});
  }

  TEST_CASE("a width on a model without one, or a width below 1, is a facet::Error naming --width") {
    tests::expect_error([] { example::make_backbone("cnn", 8, 48); }, {"--width", "--model resnet", "cnn"});
    tests::expect_error([] { example::make_backbone("resnet", 8, -4); }, {"--width", "a positive width", "-4"});
  }

  TEST_CASE("--width reaches config.txt, the default spelled out is no width, and old runs read back 0") {
    example::Options o = parsed({"--model", "resnet", "--width", "48"});
    CHECK(o.width == 48);
    tests::TempDir dir;
    example::save_config(o, dir.file("config.txt"));
    CHECK(tests::read_bytes(dir.file("config.txt")).find("width 48\n") != std::string::npos);
    CHECK(example::load_config(dir.file("config.txt")).width == 48);
    o = parsed({"--model", "resnet", "--width", "32"});  // resumes a run made without --width
    CHECK(o.width == 0);
    example::save_config(o, dir.file("config.txt"));
    CHECK(tests::read_bytes(dir.file("config.txt")).find("width") == std::string::npos);
    CHECK(example::load_config(dir.file("config.txt")).width == 0);
  }

  TEST_CASE("a config.txt with a value that is not a number is a facet::Error naming the key") {
    tests::TempDir dir;
    for (const char* line : {"width 4x\n", "lr abc\n", "seed -\n"}) {
      CAPTURE(line);
      tests::write_bytes(dir.file("config.txt"), std::string("head softmax\nmodel resnet\n") + line);
      const std::string key = std::string(line).substr(0, std::string(line).find(' '));
      tests::expect_error([&] { example::load_config(dir.file("config.txt")); }, {"load_config", "a number for " + key});
    }
  }
}
