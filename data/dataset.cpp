#include "data/dataset.h"

#include <filesystem>

#include "core/ops.h"
#include "data/idx.h"

namespace facet::data {

TensorDataset::TensorDataset(const Tensor& images, const Tensor& labels) {
  FACET_CHECK(images.defined() && labels.defined(), "TensorDataset", "defined images and labels",
              std::string(images.defined() ? "" : "undefined images ") + (labels.defined() ? "" : "undefined labels"));
  FACET_CHECK(images.dim() >= 1 && images.dtype() == kFloat32 && images.device().is_cpu(), "TensorDataset",
              "float32 images [N, ...] on the cpu", images.describe());
  FACET_CHECK(labels.dim() == 1 && labels.dtype() == kInt64 && labels.device().is_cpu(), "TensorDataset",
              "int64 labels [N] on the cpu", labels.describe());
  FACET_CHECK(images.size(0) == labels.size(0), "TensorDataset", "as many labels as images",
              images.describe() + " and " + labels.describe());
  // Contiguous and without autograd history: rows are then plain memory the loader can copy.
  images_ = ops::contiguous(ops::alias(images));
  labels_ = ops::contiguous(ops::alias(labels));
  size_ = images.size(0);
}

Example TensorDataset::get(int64_t index) const {
  FACET_CHECK(index >= 0 && index < size_, "TensorDataset::get", "an index in [0, " + std::to_string(size_) + ")",
              std::to_string(index));
  return {ops::squeeze(ops::narrow(images_, 0, index, 1), 0), labels_.data<int64_t>()[index]};
}

namespace {

std::string find_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path base(dir);
  const std::string gz = (base / (name + ".gz")).string(), plain = (base / name).string();
  std::error_code ec;
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  if (std::filesystem::is_regular_file(plain, ec)) return plain;
  throw Error("load_mnist", name + ".gz or " + name + " in " + dir, "neither (tried " + gz + " and " + plain + ")");
}

}  // namespace

TensorDataset load_mnist(const std::string& dir, Split split) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  const Tensor images = read_idx_images(image_path);
  const Tensor labels = read_idx_labels(label_path);
  FACET_CHECK(images.size(0) == labels.size(0), "load_mnist",
              "as many labels in " + label_path + " as images in " + image_path,
              std::to_string(labels.size(0)) + " labels and " + std::to_string(images.size(0)) + " images");
  return TensorDataset(images, labels);
}

}  // namespace facet::data
