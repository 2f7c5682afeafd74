#pragma once
// Batches from a Dataset, one epoch per range-for:
//
//   data::DataLoader loader(data::load_mnist(), data::DataLoaderOptions(256).shuffle(true).seed(1));
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& batch : loader) { /* batch.x float32 [B, 1, 28, 28], batch.y int64 [B] */ }
//
// Everything a batch holds is a function of (seed, epoch, batch index): the epoch's order is a
// seeded permutation of (seed, epoch), a sample's augmentation a function of (seed, epoch, sample
// index). So two loaders with one seed give the same batches bit for bit, and a run stopped after
// batch k of epoch e continues identically with resume(e, k + 1).
//
// A background thread prepares the next batches (at most `prefetch` of them wait in a queue) while
// the caller uses the current one. An exception in that thread (a dataset or transform error)
// reaches the caller at the batch where it happened. Destroying the loader, or starting a new
// iteration, stops the thread even mid-epoch.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace facet::data {

struct Batch {
  Tensor x;           // float32 [B, ...sample shape], contiguous; pinned when the options ask
  Tensor y;           // int64 [B]
  int64_t epoch = 0;  // which epoch and which batch of it: what resume() takes
  int64_t index = 0;

  // `auto [x, y] = batch` (and `for (auto [x, y] : loader)`) binds the two tensors.
  template <size_t I> Tensor& get() & { return I == 0 ? x : y; }
  template <size_t I> const Tensor& get() const& { return I == 0 ? x : y; }
  template <size_t I> Tensor&& get() && { return std::move(I == 0 ? x : y); }
};

struct DataLoaderOptions {
  explicit DataLoaderOptions(int64_t batch_size = 64) : batch_size_(batch_size) {}
  DataLoaderOptions& batch_size(int64_t v) { batch_size_ = v; return *this; }
  // A fresh permutation each epoch (else the dataset's order).
  DataLoaderOptions& shuffle(bool v) { shuffle_ = v; return *this; }
  // Leaves out the last batch when it would be smaller than batch_size.
  DataLoaderOptions& drop_last(bool v) { drop_last_ = v; return *this; }
  DataLoaderOptions& seed(uint64_t v) { seed_ = v; return *this; }
  // Applied to each sample's image before batching.
  DataLoaderOptions& transform(Transform v) { transform_ = std::move(v); return *this; }
  // Batches in page-locked host memory, so their .to(cuda) copies run asynchronously. Needs a GPU.
  DataLoaderOptions& pin_memory(bool v) { pin_memory_ = v; return *this; }
  // Batches prepared ahead by the background thread; 0 prepares each in the caller's thread.
  DataLoaderOptions& prefetch(int64_t v) { prefetch_ = v; return *this; }

  int64_t batch_size_;
  bool shuffle_ = false, drop_last_ = false, pin_memory_ = false;
  uint64_t seed_ = 0;
  Transform transform_;
  int64_t prefetch_ = 2;
};

class DataLoader {
  struct Run;

 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = DataLoaderOptions());
  // Takes a dataset by value (a TensorDataset shares its tensors, so this copies no samples).
  template <class D>
    requires std::derived_from<std::remove_cvref_t<D>, Dataset>
  DataLoader(D&& dataset, DataLoaderOptions options = DataLoaderOptions())
      : DataLoader(std::make_shared<const std::remove_cvref_t<D>>(std::forward<D>(dataset)), std::move(options)) {}
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  int64_t num_batches() const;

  // The epoch the next iteration runs. A finished iteration moves it on by one; one left early
  // (a break) does not, and the next iteration starts that epoch again from its first batch.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch) { resume(epoch, 0); }
  // The next iteration runs `epoch` from batch `batch` (0 <= batch <= num_batches()).
  void resume(int64_t epoch, int64_t batch);

  // The sample indices of an epoch, in the order its batches take them.
  std::vector<int64_t> order(int64_t epoch) const;
  // Batch `index` of `epoch`, built in the caller's thread: the same as the iteration gives.
  Batch batch(int64_t epoch, int64_t index) const;

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch*;
    using reference = Batch&;

    Iterator() = default;
    Batch& operator*() const;
    Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return loader_ == other.loader_; }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, uint64_t generation) : loader_(loader), generation_(generation) {}
    Run& run() const;
    DataLoader* loader_ = nullptr;  // null at the end
    uint64_t generation_ = 0;       // which begin() this iterator belongs to
  };

  // Starts an iteration over the rest of epoch() (stopping any earlier one) and waits for its
  // first batch.
  Iterator begin();
  Iterator end() { return Iterator(); }

 private:
  Batch make_batch(int64_t epoch, int64_t index, const std::vector<int64_t>& order) const;
  void check_epoch(const char* op, int64_t epoch) const;

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0, start_batch_ = 0;
  uint64_t generation_ = 0;
  std::unique_ptr<Run> run_;
};

}  // namespace facet::data

template <> struct std::tuple_size<facet::data::Batch> : std::integral_constant<size_t, 2> {};
template <size_t I> struct std::tuple_element<I, facet::data::Batch> { using type = facet::Tensor; };
