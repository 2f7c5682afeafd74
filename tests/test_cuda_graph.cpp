// CUDA graphs (cuda/runtime.h's Graph): a captured step replays what the same steps compute
// eagerly; its memory stays its own while it lives; index checks run again on every replay; what a
// graph cannot hold is refused with a facet::Error that leaves the device usable. The "cuda" suite
// runs only where a GPU is found; the first case runs everywhere.
#include <atomic>
#include <exception>
#include <thread>

#include "cuda/runtime.h"
#include "examples/fashion_mnist/graphed_step.h"
#include "examples/fashion_mnist/options.h"
#include "tests/helpers.h"

using namespace facet;
using facet::tests::expect_error;

namespace {

Device gpu() { return Device::cuda(0); }

struct TinyNet {
  nn::Linear fc1{nullptr}, fc2{nullptr};
  explicit TinyNet(uint64_t seed) {
    manual_seed(seed);
    fc1 = nn::Linear(6, 16);
    fc2 = nn::Linear(16, 4);
    fc1->to(gpu());
    fc2->to(gpu());
  }
  std::vector<Tensor> parameters() const {
    std::vector<Tensor> ps = fc1->parameters();
    for (const Tensor& p : fc2->parameters()) ps.push_back(p);
    return ps;
  }
  Tensor loss(const Tensor& x, const Tensor& y) { return nn::cross_entropy(fc2(relu(fc1(x))), y); }
};

// One training step: forward, loss, backward, the optimizer's step.
Tensor step(TinyNet& net, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
  const Tensor loss = net.loss(x, y);
  opt.zero_grad();
  loss.backward();
  opt.step();
  return loss;
}

// The graphed side's optimizer is capturable; the eager side's is plain, so a capturable SGD that
// read its rate wrongly would not agree with it.
optim::SGDOptions sgd(bool capturable = true) {
  return optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4).capturable(capturable);
}

// A rate that changes every step, as a schedule's does.
double lr_at(int step) { return 0.1 / (1 + step); }

}  // namespace

TEST_CASE("CUDA graphs: without a GPU, capture and replay are clear errors") {
  if (cuda_device_count() > 0) return;  // the cuda suite below covers a GPU
  cuda::Graph graph;
  bool ran = false;
  expect_error([&] { graph.capture(0, [&] { ran = true; }); }, {"cuda::Graph::capture"});
  CHECK_FALSE(ran);
  CHECK_FALSE(graph.captured());
  expect_error([&] { graph.replay(); }, {"cuda::Graph::replay"});
  CHECK_FALSE(cuda::is_capturing(0));
}

TEST_CASE("train --cuda-graph: the flag parses, and the graphed step refuses a batch that is not on a GPU") {
  const char* plain[] = {"train"};
  const char* graphed[] = {"train", "--cuda-graph", "--quiet"};
  CHECK_FALSE(example::parse_train_options(1, const_cast<char**>(plain)).cuda_graph);
  CHECK(example::parse_train_options(3, const_cast<char**>(graphed)).cuda_graph);
  example::TrainModel model("cnn", "softmax", 16);
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1).capturable(true));
  const Tensor x = zeros({2, 1, 28, 28}), y = zeros({2}, kInt64);
  expect_error([&] { example::GraphedTrainStep step(model, opt, x, y); },
               {"GraphedTrainStep", "images and labels on one CUDA device", "on cpu"});
}

TEST_SUITE("cuda") {
  TEST_CASE("[cuda] train --cuda-graph's replayed step follows the eager train_step, schedule included") {
    Generator gen(5);
    std::vector<Tensor> xs, ys;
    for (int s = 0; s < 6; ++s) {
      xs.push_back(randn({8, 1, 28, 28}, kFloat32, &gen).to(gpu()));
      std::vector<int64_t> labels(8);
      for (int64_t i = 0; i < 8; ++i) labels[i] = (i * 3 + s) % 10;
      ys.push_back(tensor(labels).to(gpu()));
    }
    const auto make_model = [] {
      manual_seed(9);  // both models start from the same weights
      auto model = std::make_unique<example::TrainModel>("cnn", "center", 16);
      model->to(gpu());
      return model;
    };
    auto eager = make_model(), graphed = make_model();
    optim::SGD eager_opt(eager->parameters(), sgd(false)), graph_opt(graphed->parameters(), sgd());
    optim::CosineWarmupLR eager_schedule(eager_opt, 2, 6), graph_schedule(graph_opt, 2, 6);
    std::vector<float> eager_losses;
    for (int s = 0; s < 6; ++s) {
      eager_losses.push_back(example::train_step(*eager, eager_opt, xs[s], ys[s]).loss.item<float>());
      eager_schedule.step();
    }
    std::unique_ptr<example::GraphedTrainStep> step;
    for (int s = 0; s < 6; ++s) {
      if (s == 2) step = std::make_unique<example::GraphedTrainStep>(*graphed, graph_opt, xs[s], ys[s]);
      const float loss = (step ? (*step)(xs[s], ys[s]) : example::train_step(*graphed, graph_opt, xs[s], ys[s])).loss.item<float>();
      CHECK(loss == doctest::Approx(eager_losses[s]).epsilon(1e-5));
      graph_schedule.step();
    }
    const std::vector<Tensor> a = eager->parameters(), b = graphed->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      CAPTURE(i);
      CHECK(tests::rel_error(b[i].detach().to_vector<double>(), a[i].detach().to_vector<double>()) <= 1e-5);
    }
    expect_error([&] { (*step)(ops::narrow(xs[0], 0, 0, 4), ops::narrow(ys[0], 0, 0, 4)); },
                 {"GraphedTrainStep", "a batch shaped and typed like the captured one", "[4, 1, 28, 28]"});
    expect_error([&] { (*step)(xs[0].to(kFloat64), ys[0]); }, {"GraphedTrainStep", "typed like", "float64"});
  }


  TEST_CASE("[cuda] a captured training step replays what the same eager steps compute") {
    Generator gen(3);
    std::vector<Tensor> xs, ys;
    for (int s = 0; s < 6; ++s) {
      xs.push_back(randn({32, 6}, kFloat32, &gen).to(gpu()));
      std::vector<int64_t> labels(32);
      for (int64_t i = 0; i < 32; ++i) labels[i] = (i * 5 + s) % 4;
      ys.push_back(tensor(labels).to(gpu()));
    }
    TinyNet eager_net(7), graph_net(7);
    optim::SGD eager_opt(eager_net.parameters(), sgd(false)), graph_opt(graph_net.parameters(), sgd());
    std::vector<float> eager_losses;
    for (int s = 0; s < 6; ++s) {
      eager_opt.set_lr(0, lr_at(s));
      eager_losses.push_back(step(eager_net, eager_opt, xs[s], ys[s]).item<float>());
    }

    // Warm-up: two eager steps make the momentum buffers (the first step sets them from the gradient).
    for (int s = 0; s < 2; ++s) {
      graph_opt.set_lr(0, lr_at(s));
      step(graph_net, graph_opt, xs[s], ys[s]);
    }
    const Tensor x = xs[0].clone(), y = ys[0].clone();  // the graph's inputs
    Tensor loss;
    cuda::Graph graph;
    bool seen_capturing = false, cpu_seen_capturing = true;
    graph.capture(0, [&] {
      seen_capturing = cuda::is_capturing(gpu());
      cpu_seen_capturing = cuda::is_capturing(Device::cpu());
      loss = step(graph_net, graph_opt, x, y);
    });
    CHECK(seen_capturing);
    CHECK_FALSE(cpu_seen_capturing);
    CHECK(graph.captured());
    CHECK_FALSE(cuda::is_capturing(0));
    CHECK_FALSE(cuda::is_capturing(gpu()));
    for (int s = 2; s < 6; ++s) {
      ops::copy_(x, xs[s]);
      ops::copy_(y, ys[s]);
      graph_opt.set_lr(0, lr_at(s));  // the capturable SGD reads the rate from device memory
      graph.replay();
      CHECK(loss.item<float>() == doctest::Approx(eager_losses[s]).epsilon(1e-6));
    }
    const std::vector<Tensor> a = eager_net.parameters(), b = graph_net.parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      const std::vector<double> ev = a[i].detach().to_vector<double>(), gv = b[i].detach().to_vector<double>();
      CHECK(tests::rel_error(gv, ev) <= 1e-6);
    }
  }

  TEST_CASE("[cuda] a graph's memory stays its own until the graph is destroyed") {
    cuda::empty_cache(0);
    const Tensor x = ones({1 << 18}, kFloat32, gpu());  // 1 MiB
    const void* captured_block = nullptr;
    {
      cuda::Graph graph;
      graph.capture(0, [&] {
        const Tensor doubled = x * 2.0;  // made and released inside the capture
        captured_block = doubled.raw_data();
      });
      graph.replay();
      cuda::synchronize(0);
      for (int i = 0; i < 3; ++i) {  // eager allocations of the same size never get the graph's block
        const Tensor other = empty({1 << 18}, kFloat32, gpu());
        CHECK(other.raw_data() != captured_block);
      }
    }
    // Destroyed: the block is back in the shared cache and serves the next request of its size.
    bool reused = false;
    std::vector<Tensor> held;
    for (int i = 0; i < 4 && !reused; ++i) {
      held.push_back(empty({1 << 18}, kFloat32, gpu()));
      reused = held.back().raw_data() == captured_block;
    }
    CHECK(reused);
  }

  TEST_CASE("[cuda] index checks captured in a graph run again on every replay") {
    const Tensor labels = tensor(std::vector<int64_t>{1, 2, 3}).to(gpu());
    Tensor hot;
    cuda::Graph graph;
    graph.capture(0, [&] { hot = one_hot(labels, 4); });
    graph.replay();
    cuda::synchronize(0);  // every label in range: no error
    CHECK(hot.to_vector<float>() == std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
    ops::copy_(labels, tensor(std::vector<int64_t>{1, 9, 3}).to(gpu()));
    graph.replay();
    expect_error([] { cuda::synchronize(0); }, {"one_hot", "labels", "value 9", "position 1"});
    ops::copy_(labels, tensor(std::vector<int64_t>{0, 0, 0}).to(gpu()));
    graph.replay();
    cuda::synchronize(0);  // settled: the next replay's checks pass again
    CHECK(hot.to_vector<float>()[0] == 1.0f);
  }

  TEST_CASE("[cuda] what a graph cannot hold is refused, leaving no graph and a usable device") {
    const Tensor x = ones({8}, kFloat32, gpu());
    const auto refused = [&](const std::function<void()>& body, const std::vector<std::string>& fragments) {
      cuda::Graph graph;
      expect_error([&] { graph.capture(0, body); }, fragments);
      CHECK_FALSE(graph.captured());
      CHECK_FALSE(cuda::is_capturing(0));
      CHECK((x * 3.0).sum().item<float>() == 24.0f);  // the stream runs work again
    };
    refused([&] { (void)x.sum().item<float>(); }, {"cuda graph capture", "no host wait", "a copy to host memory"});
    refused([&] { (void)ones({4}).to(gpu()); }, {"cuda graph capture", "a copy from host memory"});
    refused([&] { cuda::synchronize(0); }, {"cuda graph capture", "synchronize"});
    refused([&] { cuda::empty_cache(0); }, {"cuda graph capture", "empty_cache"});
    refused([&] { (void)nn::Dropout(0.5)(x); }, {"a random draw outside a CUDA graph capture"});
    nn::SphereProduct sphere(8, 3, 4);
    sphere->to(gpu());
    const Tensor features = ones({2, 8}, kFloat32, gpu()), classes = tensor(std::vector<int64_t>{0, 1}).to(gpu());
    refused([&] { (void)sphere->forward(features, classes); }, {"SphereProduct", "outside a CUDA graph capture"});

    // SGD: a plain one; a capturable one's first momentum step, first step or rate change.
    TinyNet net(5);
    const Tensor inputs = ones({2, 6}, kFloat32, gpu()), labels = tensor(std::vector<int64_t>{0, 3}).to(gpu());
    optim::SGD plain(net.parameters(), optim::SGDOptions(0.1).momentum(0.9));
    step(net, plain, inputs, labels);
    refused([&] { step(net, plain, inputs, labels); }, {"SGD step", "capturable(true)", "a plain SGD"});
    optim::SGD no_buffers(net.parameters(), sgd());
    refused([&] { step(net, no_buffers, inputs, labels); }, {"SGD step", "momentum buffers made by an eager step"});
    optim::SGD no_rate(net.parameters(), optim::SGDOptions(0.1).capturable(true));
    refused([&] { step(net, no_rate, inputs, labels); }, {"SGD step", "first step taken before the CUDA graph capture"});
    optim::SGD stepped(net.parameters(), sgd());
    step(net, stepped, inputs, labels);
    refused([&] { stepped.set_lr(0, 0.01); }, {"SGD set_lr", "outside the CUDA graph capture"});
    CHECK(stepped.lr(0) == 0.1);  // refused before the host's rate changed
    optim::Adam adam(net.parameters(), optim::AdamOptions(1e-3));
    step(net, adam, inputs, labels);
    refused([&] { step(net, adam, inputs, labels); }, {"Adam step", "a CUDA graph cannot hold it"});

    cuda::Graph graph;
    expect_error([&] { graph.replay(); }, {"cuda::Graph::replay", "nothing captured"});
    graph.capture(0, [&] {
      cuda::Graph inner;
      expect_error([&] { inner.capture(0, [] {}); }, {"cuda::Graph::capture", "no other capture on cuda:0"});
      (void)(x + 1.0);
    });
    CHECK(graph.captured());
    refused([&] { graph.replay(); }, {"cuda::Graph::replay", "a replay cannot be captured"});
    expect_error([&] { graph.capture(0, [] {}); }, {"cuda::Graph::capture", "already captured"});
    expect_error([&] { graph.capture(cuda_device_count(), [] {}); }, {"cuda::Graph::capture", "device index"});
  }

  // cuda/pinned_allocator.cu: freeing a pinned block waits for every device, which a capture
  // cannot hold, so blocks released during one stay cached beyond the cap; the first release
  // after it trims the cache back.
  TEST_CASE("[cuda] pinned blocks released during a capture stay cached, and the cache shrinks to its cap after") {
    const size_t released = cuda::kPinnedCacheCap + 16;
    std::vector<Tensor> held;
    for (size_t i = 0; i < released; ++i) held.push_back(empty({1024}, kFloat32).pin_memory());
    const Tensor x = ones({8}, kFloat32, gpu());
    Tensor y;
    cuda::Graph graph;
    graph.capture(0, [&] {
      held.clear();
      y = x * 2.0;
    });
    CHECK(cuda::pinned_cached_blocks() >= released);
    empty({1024}, kFloat32).pin_memory();  // made and released outside any capture
    CHECK(cuda::pinned_cached_blocks() <= cuda::kPinnedCacheCap);
    graph.replay();
    CHECK(y.to(Device::cpu()).to_vector<float>() == std::vector<float>(8, 2.0f));
  }

  // A DataLoader's thread releases pinned batches while train's thread captures its step: a
  // capture may start between a release's "is a device capturing?" and its event records, unless
  // the release holds the capture start (cuda/graph_hooks.h's capture_start_mutex).
  TEST_CASE("[cuda] a thread releasing pinned blocks while graphs are captured and replayed") {
    std::atomic<bool> done{false};
    std::exception_ptr loader_failure;
    std::thread loader([&] {
      try {
        while (!done) empty({1 << 14}, kFloat32).pin_memory().fill_(1.0);
      } catch (...) {
        loader_failure = std::current_exception();
      }
    });
    for (int i = 0; i < 50; ++i) {
      const Tensor batch = full({1 << 14}, static_cast<double>(i), kFloat32).pin_memory();
      const Tensor on_gpu = batch.to(gpu());  // asynchronous: the release records events
      Tensor y;
      cuda::Graph graph;
      graph.capture(0, [&] { y = on_gpu + 1.0; });
      graph.replay();
      const std::vector<float> got = y.to(Device::cpu()).to_vector<float>();
      CHECK(got.front() == static_cast<float>(i + 1));
      CHECK(got.back() == static_cast<float>(i + 1));
    }
    done = true;
    loader.join();
    CHECK(loader_failure == nullptr);
  }
}
