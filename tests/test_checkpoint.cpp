// safetensors checkpoints: the file layout, a round trip, and every way a file can be wrong.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/helpers.h"

using namespace facet;
using nn::NamedTensors;
namespace fs = std::filesystem;

namespace {

struct TinyImpl : nn::Module {
  nn::Linear fc{nullptr};
  TinyImpl(int64_t in = 3, int64_t out = 2) : nn::Module("Tiny") {
    fc = register_module("fc", nn::Linear(in, out));
    register_buffer("count", full({1}, 7, kInt64));
  }
  Tensor forward(const Tensor& x) const { return fc(x); }
};
FACET_MODULE(Tiny);

using tests::TempDir;
using tests::write_bytes;
using tests::read_bytes;

// A file with the given JSON header and data bytes.
std::string safetensors(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &n, 8);
  return bytes + header + data;
}

}  // namespace

TEST_CASE("the file is safetensors: length, JSON header with state-dict names, raw data") {
  TempDir dir;
  Tiny net;
  nn::save(*net, dir.file("tiny.safetensors"));
  const std::string bytes = read_bytes(dir.file("tiny.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + (6 + 2) * 4 + 8);
  const std::string header = bytes.substr(8, n);
  CHECK(header.find("\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}") != std::string::npos);
  CHECK(header.find("\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}") != std::string::npos);
  CHECK(header.find("\"count\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[32,40]}") != std::string::npos);
  float first = 0;
  std::memcpy(&first, bytes.data() + 8 + n, 4);
  CHECK(first == net->fc->weight.at<float>({0, 0}));
}

TEST_CASE("a round trip restores every parameter and buffer exactly") {
  TempDir dir;
  manual_seed(1);
  Tiny a;
  manual_seed(2);
  Tiny b;
  CHECK(a->fc->weight.to_vector<float>() != b->fc->weight.to_vector<float>());
  nn::save(*a, dir.file("a.safetensors"));
  nn::load(*b, dir.file("a.safetensors"));
  CHECK(b->fc->weight.to_vector<float>() == a->fc->weight.to_vector<float>());
  CHECK(b->fc->bias.to_vector<float>() == a->fc->bias.to_vector<float>());
  CHECK(b->fc->weight.requires_grad());  // still a parameter
  const NamedTensors loaded = nn::load_tensors(dir.file("a.safetensors"));
  REQUIRE(loaded.size() == 3);
  CHECK(loaded[2].first == "count");
  CHECK(loaded[2].second.item<int64_t>() == 7);
  // Named tensors of any dtype and shape, names with characters JSON must escape, an empty tensor.
  const NamedTensors named = {{"a \"quoted\\name\"", tensor(std::vector<double>{1.5, -2})},
                              {"empty", zeros({0, 3})},
                              {"t", arange(0.0, 6.0).reshape({2, 3}).t()}};
  nn::save_tensors(named, dir.file("named.safetensors"));
  const NamedTensors back = nn::load_tensors(dir.file("named.safetensors"));
  REQUIRE(back.size() == 3);
  CHECK(back[0].first == "a \"quoted\\name\"");
  CHECK(back[0].second.to_vector<double>() == std::vector<double>{1.5, -2});
  CHECK(back[1].second.shape() == Shape{0, 3});
  CHECK(back[2].second.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("loading into a different model names the tensor that differs; nothing is loaded then") {
  TempDir dir;
  Tiny small(3, 2);
  nn::save(*small, dir.file("small.safetensors"));
  Tiny wide(4, 2);
  const std::vector<float> before = wide->fc->bias.to_vector<float>();
  tests::expect_error([&] { nn::load(*wide, dir.file("small.safetensors")); },
                      {"load", "\"fc.weight\"", "[2, 4] float32", "[2, 3] float32"});
  CHECK(wide->fc->bias.to_vector<float>() == before);

  struct TwoImpl : nn::Module {
    TwoImpl() : nn::Module("Two") {
      register_module("fc", nn::Linear(3, 2));
      register_parameter("extra", ones({1}));
      register_buffer("count", zeros({1}, kInt64));
    }
  };
  TwoImpl two;
  tests::expect_error([&] { nn::load(two, dir.file("small.safetensors")); },
                      {"load", "a tensor named \"extra\"", "fc.weight, fc.bias, count"});
  nn::save(two, dir.file("two.safetensors"));
  tests::expect_error([&] { nn::load(*small, dir.file("two.safetensors")); }, {"load", "no tensors besides", "1 more"});
}

TEST_CASE("truncated and corrupt files are facet::Errors naming the file and the fault") {
  TempDir dir;
  Tiny net;
  const std::string good = dir.file("good.safetensors");
  nn::save(*net, good);
  const std::string bytes = read_bytes(good);
  const std::string bad = dir.file("bad.safetensors");

  write_bytes(bad, bytes.substr(0, 5));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "at least 8 bytes", "5 bytes", bad});
  write_bytes(bad, bytes.substr(0, 40));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "header length within the file"});
  write_bytes(bad, bytes.substr(0, bytes.size() - 4));  // the last tensor's data cut short
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "\"count\"", "truncated"});
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "malformed JSON"});
  // Offsets that lie: disagreeing with the shape, overlapping, leaving a hole, past the data.
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "12 bytes for [3] float32", "[0, 8]"});
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                               "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                               std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "without gaps or overlaps", "\"y\""});
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "without gaps", "byte 4"});
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "within the 8 data bytes"});
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "F32, F64 or I64", "BF16"});
  tests::expect_error([&] { nn::load_tensors(dir.file("missing.safetensors")); }, {"load", "readable file"});
  // Sizes whose byte count overflows 64 bits must not slip through as a tiny tensor.
  write_bytes(bad, safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[6,768614336404564651],\"data_offsets\":[0,8]}}",
                               std::string(8, '\0')));
  tests::expect_error([&] { nn::load_tensors(bad); }, {"load", "fits in 64 bits"});
}

TEST_CASE("a failed save leaves the previous file untouched and no temporary file behind") {
  TempDir dir;
  Tiny net;
  const std::string path = dir.file("keep.safetensors");
  nn::save(*net, path);
  const std::string before = read_bytes(path);
  tests::expect_error([&] { nn::save_tensors({{"w", ones({2})}, {"w", ones({2})}}, path); }, {"save", "\"w\" twice"});
  tests::expect_error([&] { nn::save_tensors({{"w", Tensor()}}, path); }, {"save", "undefined"});
  tests::expect_error([&] { nn::save(*net, dir.file("no/such/folder/x.safetensors")); }, {"save", "writable folder"});
  // A failure after the temporary file exists (the rename lands on a folder) removes it too.
  fs::create_directory(dir.file("a-folder"));
  tests::expect_error([&] { nn::save(*net, dir.file("a-folder")); }, {"save", "rename"});
  tests::expect_error([&] { nn::save_tensors({{"__metadata__", ones({1})}}, path); }, {"save", "__metadata__"});
  CHECK(read_bytes(path) == before);
  const mode_t mask = umask(0);
  umask(mask);
  const bool group_may_read = (mask & S_IRGRP) == 0;
  CHECK(((fs::status(path).permissions() & fs::perms::group_read) != fs::perms::none) == group_may_read);  // not 0600
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) files += entry.is_regular_file();
  CHECK(files == 1);  // the checkpoint alone: no temporary file left
}
