// The ArcFace head, forward + backward (loss, then the gradients of the features and of W), for
// B = 256, D = 512 and C in {10, 10 000, 100 000}: the fused path (GEMM, then margin + softmax +
// cross-entropy in one kernel pair) beside the composed one (the reference's logits, then
// cross_entropy), with the peak memory each allocates on top of what the inputs already hold, and
// the floor of the part the fused kernels replace: the logits read once and written once, timed
// as a copy of a B x C tensor in the same run.
// Usage: loss_heads [cpu|cuda]. One line per case, "name fused_ms composed_ms copy_ms
// fused_peak_mib composed_peak_mib", for bench/torch_ref.py to set beside PyTorch; medians after
// a warm-up.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/host_allocator.h"
#include "core/ops.h"
#include "facet.h"

using namespace facet;

namespace {

void wait(Device device) {
  if (device.is_cuda()) cuda::synchronize(device.index);
}

double elapsed_ms(Device device, const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  wait(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Medians of each candidate after a warm-up, the candidates timed in turn within each repetition,
// so drift on a shared machine hits them alike.
std::vector<double> median_ms(Device device, int repeats, const std::vector<std::function<void()>>& fns) {
  for (const auto& fn : fns) elapsed_ms(device, fn);
  std::vector<std::vector<double>> t(fns.size());
  for (int r = 0; r < repeats; ++r)
    for (size_t i = 0; i < fns.size(); ++i) t[i].push_back(elapsed_ms(device, fns[i]));
  std::vector<double> medians;
  for (auto& v : t) {
    std::nth_element(v.begin(), v.begin() + repeats / 2, v.end());
    medians.push_back(v[repeats / 2]);
  }
  return medians;
}

// Bytes allocated at the peak of fn beyond what was in use before it.
double peak_mib(Device device, const std::function<void()>& fn) {
  wait(device);
  size_t before = 0, peak = 0;
  if (device.is_cuda()) {
    cuda::reset_peak_memory_stats(device.index);
    before = cuda::memory_stats(device.index).current_bytes;
    fn();
    wait(device);
    peak = cuda::memory_stats(device.index).peak_bytes;
  } else {
    HostAllocator::reset_peak();
    before = HostAllocator::stats().current_bytes;
    fn();
    peak = HostAllocator::stats().peak_bytes;
  }
  return static_cast<double>(peak - before) / (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string where = argc > 1 ? argv[1] : "cpu";
  const Device device = where == "cuda" ? Device::cuda(0) : Device::cpu();
  const int64_t batch = 256, dim = 512;
  Generator gen(1);
  for (int64_t classes : {int64_t{10}, int64_t{10000}, int64_t{100000}}) {
    const int repeats = classes >= 100000 && device.is_cpu() ? 3 : 7;
    nn::ArcMarginProduct head(dim, classes);
    head.to(device);
    Tensor x = randn({batch, dim}, kFloat32, &gen).to(device).set_requires_grad(true);
    std::vector<int64_t> y(batch);
    for (int64_t i = 0; i < batch; ++i) y[i] = (i * 7919) % classes;
    const Tensor labels = tensor(y).to(device);
    const auto fused = [&] {
      x.zero_grad();
      head.zero_grad();
      head->loss(x, labels).backward();
    };
    const auto composed = [&] {
      x.zero_grad();
      head.zero_grad();
      nn::cross_entropy(head(x, labels), labels).backward();
    };
    const Tensor logits = empty({batch, classes}, kFloat32, device);
    const std::vector<double> ms = median_ms(device, repeats, {fused, composed, [&] { ops::clone(logits); }});
    const double fused_ms = ms[0], composed_ms = ms[1], copy_ms = ms[2];
    // The gradients of the previous run are dropped inside each measured call; drop them first too,
    // so neither path is charged for the other's.
    x.zero_grad();
    head.zero_grad();
    const double fused_peak = peak_mib(device, fused);
    x.zero_grad();
    head.zero_grad();
    const double composed_peak = peak_mib(device, composed);
    std::printf("arcface_C%lld %.3f %.3f %.3f %.1f %.1f\n", static_cast<long long>(classes), fused_ms, composed_ms,
                copy_ms, fused_peak, composed_peak);
    std::fflush(stdout);
  }
}
