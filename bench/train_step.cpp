// One training step of the Fashion-MNIST example, end to end (example::train_step: backbone
// forward, the head's loss, zero_grad, backward, the SGD step with momentum 0.9, Nesterov and
// weight decay 5e-4, the head's after-step update) — what examples/fashion_mnist/train runs per
// batch, less the data loading.
// Random images and labels, the same for every head; medians after two warm-up steps.
// Usage: train_step [cpu|cuda] [MODEL] [BATCH] [HEAD...]. One line per head, "head median_ms
// img_per_s peak_mib graph_ms", for bench/torch_ref.py to set beside PyTorch; peak_mib is the memory
// a step allocates beyond what the model, its gradients and the optimizer's state already hold;
// graph_ms is the median of the same step captured once as a CUDA graph and replayed (cuda only,
// nan for SphereFace, whose lambda anneals on the host, and on the CPU).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/host_allocator.h"
#include "examples/fashion_mnist/run.h"
#include "facet.h"

using namespace facet;

namespace {

void wait(Device device) {
  if (device.is_cuda()) cuda::synchronize(device.index);
}

size_t bytes_in_use(Device device) {
  return device.is_cuda() ? cuda::memory_stats(device.index).current_bytes : HostAllocator::stats().current_bytes;
}

void reset_peak(Device device) {
  if (device.is_cuda())
    cuda::reset_peak_memory_stats(device.index);
  else
    HostAllocator::reset_peak();
}

size_t peak_bytes(Device device) {
  return device.is_cuda() ? cuda::memory_stats(device.index).peak_bytes : HostAllocator::stats().peak_bytes;
}

double median_of(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string where = argc > 1 ? argv[1] : "cpu";
  const std::string model_name = argc > 2 ? argv[2] : "cnn";
  const int64_t batch = argc > 3 ? std::stoll(argv[3]) : 256;
  std::vector<std::string> heads(argv + std::min(argc, 4), argv + argc);
  if (heads.empty()) heads = {"softmax", "center", "cosface", "arcface", "sphereface", "combined", "subcenter"};
  const Device device = where == "cuda" ? Device::cuda(0) : Device::cpu();
  const int repeats = device.is_cuda() ? 21 : 7;

  manual_seed(1);
  Generator gen(1);
  const Tensor x = randn({batch, 1, 28, 28}, kFloat32, &gen).to(device);
  std::vector<int64_t> labels(batch);
  for (int64_t i = 0; i < batch; ++i) labels[i] = (i * 7) % 10;
  const Tensor y = tensor(labels).to(device);

  for (const std::string& head : heads) {
    example::TrainModel model(model_name, head, 128);
    model.to(device);
    model.train();
    // Capturable on a GPU: the graph below may only step an SGD that reads its rate from device memory.
    const auto options = optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4).nesterov(true);
    optim::SGD opt(model.parameters(), optim::SGDOptions(options).capturable(device.is_cuda()));
    const auto step = [&] { example::train_step(model, opt, x, y); };
    step();
    step();  // the optimizer's momentum buffers exist from here on
    wait(device);
    const size_t before = bytes_in_use(device);
    reset_peak(device);
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      step();
      wait(device);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const double peak_mib = static_cast<double>(peak_bytes(device) - before) / (1 << 20);
    const double median = median_of(ms);
    double graph_ms = std::nan("");
    if (device.is_cuda() && head != "sphereface") {
      cuda::Graph graph;
      graph.capture(device.index, step);  // the warm-up above made the handles and optimizer state
      std::vector<double> replays;
      for (int r = 0; r < repeats + 1; ++r) {  // the first replay pays for the graph's first upload
        const auto t0 = std::chrono::steady_clock::now();
        graph.replay();
        wait(device);
        const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) replays.push_back(elapsed);
      }
      graph_ms = median_of(replays);
    }
    std::printf("%s %.3f %.1f %.1f %.3f\n", head.c_str(), median, batch * 1000.0 / median, peak_mib, graph_ms);
    std::fflush(stdout);
  }
}
