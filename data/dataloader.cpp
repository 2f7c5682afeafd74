#include "data/dataloader.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "core/factory.h"
#include "core/ops.h"
#include "data/sample_random.h"

namespace facet::data {

// One iteration: the epoch's order, and either a background thread filling a bounded queue or
// (prefetch 0) nothing, the caller building each batch itself.
struct DataLoader::Run {
  const DataLoader& loader;
  const int64_t epoch, end;
  int64_t next;  // the next batch to build
  const std::vector<int64_t> order;
  const size_t capacity;
  std::optional<Batch> current;

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Batch> queue;
  std::exception_ptr error;
  bool finished = false;
  std::atomic<bool> stop{false};
  std::thread worker;

  Run(const DataLoader& l, int64_t epoch_, int64_t start)
      : loader(l), epoch(epoch_), end(l.num_batches()), next(start), order(l.order(epoch_)),
        capacity(static_cast<size_t>(l.options_.prefetch_)) {
    if (capacity > 0) worker = std::thread([this] { produce(); });
  }

  ~Run() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    changed.notify_all();
    if (worker.joinable()) worker.join();
  }

  void produce() {
    try {
      for (int64_t b = next; b < end && !stop; ++b) {
        Batch batch = loader.make_batch(epoch, b, order);
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return stop || queue.size() < capacity; });
        if (stop) return;
        queue.push_back(std::move(batch));
        changed.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex);
    finished = true;
    changed.notify_all();
  }

  // The next batch into `current`; false at the end of the epoch. The worker's exception is
  // rethrown here, after the batches it finished before failing.
  bool advance() {
    current.reset();
    if (capacity == 0) {
      if (next >= end) return false;
      current = loader.make_batch(epoch, next, order);
      ++next;
      return true;
    }
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return !queue.empty() || finished; });
    if (!queue.empty()) {
      current = std::move(queue.front());
      queue.pop_front();
      changed.notify_all();
      return true;
    }
    if (error) {
      std::exception_ptr e = error;
      error = nullptr;  // once; the iteration is over after it
      std::rethrow_exception(e);
    }
    return false;
  }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  FACET_CHECK(dataset_ != nullptr, "DataLoader", "a dataset", "a null pointer");
  FACET_CHECK(options_.batch_size_ >= 1, "DataLoader", "batch_size >= 1", std::to_string(options_.batch_size_));
  FACET_CHECK(options_.prefetch_ >= 0 && options_.prefetch_ <= 64, "DataLoader", "prefetch from 0 to 64 batches",
              std::to_string(options_.prefetch_));
  FACET_CHECK(!options_.pin_memory_ || cuda_device_count() > 0, "DataLoader",
              "a visible CUDA device for pin_memory (pinned memory serves host-to-GPU copies)",
              built_with_cuda() ? "no GPU" : "a build without CUDA");
}

DataLoader::~DataLoader() = default;

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size(), b = options_.batch_size_;
  return options_.drop_last_ ? n / b : (n + b - 1) / b;
}

void DataLoader::check_epoch(const char* op, int64_t epoch) const {
  // The epoch is one 32-bit word of the random counters (data/sample_random.h).
  FACET_CHECK(epoch >= 0 && epoch <= int64_t{UINT32_MAX}, op, "an epoch from 0 to 2^32 - 1", std::to_string(epoch));
}

void DataLoader::resume(int64_t epoch, int64_t batch) {
  check_epoch("DataLoader::resume", epoch);
  FACET_CHECK(batch >= 0 && batch <= num_batches(), "DataLoader::resume",
              "a batch from 0 to " + std::to_string(num_batches()) + " (the batches per epoch)", std::to_string(batch));
  run_.reset();  // an iteration in progress ends here
  epoch_ = epoch;
  start_batch_ = batch;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  check_epoch("DataLoader::order", epoch);
  const int64_t n = dataset_->size();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (!options_.shuffle_) return order;
  // Fisher-Yates from the top; the swap partner of position i is drawn from counter (i, epoch).
  for (int64_t i = n - 1; i > 0; --i) {
    const philox::Block b = random_block(options_.seed_, static_cast<uint64_t>(i), static_cast<uint32_t>(epoch), kShuffleStream);
    std::swap(order[i], order[random_below(b, static_cast<uint64_t>(i) + 1)]);
  }
  return order;
}

Batch DataLoader::batch(int64_t epoch, int64_t index) const {
  check_epoch("DataLoader::batch", epoch);
  FACET_CHECK(index >= 0 && index < num_batches(), "DataLoader::batch",
              "a batch index in [0, " + std::to_string(num_batches()) + ")", std::to_string(index));
  return make_batch(epoch, index, order(epoch));
}

namespace {

Tensor host_tensor(const Shape& shape, DType dtype, bool pinned) {
  if (!pinned) return empty(shape, dtype);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(numel_of(shape)) * dtype_size(dtype), Device::cpu(), true);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace

Batch DataLoader::make_batch(int64_t epoch, int64_t index, const std::vector<int64_t>& order) const {
  const int64_t first = index * options_.batch_size_;
  const int64_t count = std::min<int64_t>(options_.batch_size_, static_cast<int64_t>(order.size()) - first);
  Batch out;
  out.epoch = epoch;
  out.index = index;
  out.y = host_tensor({count}, kInt64, options_.pin_memory_);
  Shape sample_shape;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = order[first + k];
    Example ex = dataset_->get(i);
    Tensor image = ex.image;
    if (options_.transform_) image = options_.transform_(image, SampleContext{options_.seed_, static_cast<uint64_t>(epoch), i, 0});
    FACET_CHECK(image.defined() && image.dtype() == kFloat32 && image.device().is_cpu(), "DataLoader",
                "a float32 cpu image for sample " + std::to_string(i),
                image.defined() ? image.describe() : "an undefined tensor");
    if (k == 0) {
      sample_shape = image.shape();
      Shape shape{count};
      shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
      out.x = host_tensor(shape, kFloat32, options_.pin_memory_);
    }
    FACET_CHECK(image.shape() == sample_shape, "DataLoader",
                "every image of a batch shaped " + shape_str(sample_shape) + " (as the batch's first)",
                shape_str(image.shape()) + " for sample " + std::to_string(i));
    const Tensor src = ops::contiguous(image);
    const int64_t n = numel_of(sample_shape);
    std::memcpy(out.x.data<float>() + k * n, src.data<float>(), static_cast<size_t>(n) * sizeof(float));
    out.y.data<int64_t>()[k] = ex.label;
  }
  return out;
}

DataLoader::Iterator DataLoader::begin() {
  run_.reset();  // stop an earlier iteration before its thread can race the new one
  ++generation_;
  run_ = std::make_unique<Run>(*this, epoch_, start_batch_);
  Iterator it(this, generation_);
  if (!run_->advance()) {
    epoch_ = run_->epoch + 1;
    start_batch_ = 0;
    return end();
  }
  return it;
}

DataLoader::Run& DataLoader::Iterator::run() const {
  FACET_CHECK(loader_ != nullptr, "DataLoader::Iterator", "an iterator before the end", "the end iterator");
  FACET_CHECK(loader_->run_ && loader_->generation_ == generation_, "DataLoader::Iterator",
              "one iteration over a loader at a time",
              "an iterator whose iteration was ended by a later begin(), resume() or set_epoch()");
  return *loader_->run_;
}

Batch& DataLoader::Iterator::operator*() const { return *run().current; }

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  Run& r = run();
  if (!r.advance()) {
    loader_->epoch_ = r.epoch + 1;
    loader_->start_batch_ = 0;
    loader_ = nullptr;
  }
  return *this;
}

}  // namespace facet::data
