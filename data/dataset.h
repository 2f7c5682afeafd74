#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace facet::data {

// One sample: an image (a CPU float32 tensor such as [1, 28, 28]) and its class.
struct Example {
  Tensor image;
  int64_t label = 0;
};

// Random access to samples. get() is called from the DataLoader's background thread while the
// caller may be using the dataset too, so it must not change shared state.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
};

// Samples held in two tensors: images [N, ...] (float32) and labels [N] (int64), both on the CPU.
// get(i) returns a view of row i, no copy.
class TensorDataset : public Dataset {
 public:
  TensorDataset(const Tensor& images, const Tensor& labels);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;
  const Tensor& images() const { return images_; }
  const Tensor& labels() const { return labels_; }

 private:
  Tensor images_, labels_;
  int64_t size_ = 0;
};

enum class Split { Train, Test };

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The MNIST-format files of `dir` (MNIST or Fashion-MNIST): {train,t10k}-images-idx3-ubyte and
// {train,t10k}-labels-idx1-ubyte, each gzip (".gz", tried first) or plain. Images become float32
// [N, 1, 28, 28] in [0, 1], labels int64 [N]. A missing file is a facet::Error naming both paths
// tried.
TensorDataset load_mnist(const std::string& dir = kFashionMnistDir, Split split = Split::Train);

}  // namespace facet::data
