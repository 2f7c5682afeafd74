// Convolution and batchnorm, forward and forward+backward, at the Fashion-MNIST shapes of the
// examples (batch 256). Prints one line per case, "name fwd_ms fwdbwd_ms", for bench/torch_ref.py
// to set beside PyTorch's; run alone it is just facet's numbers. Medians of 5 runs after a warm-up.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "facet.h"

using namespace facet;

namespace {

double median_ms(const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + 2, t.end());
  return t[2];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::stoll(argv[1]) : 256;
  struct Case {
    const char* name;
    int64_t cin, cout, side, kernel;
  };
  const Case cases[] = {{"conv_1x32_28_k3", 1, 32, 28, 3},
                        {"conv_1x32_28_k5", 1, 32, 28, 5},
                        {"conv_32x64_28_k3", 32, 64, 28, 3},
                        {"conv_64x128_14_k3", 64, 128, 14, 3},
                        {"conv_32x64_28_k5", 32, 64, 28, 5}};
  Generator gen(1);
  for (const Case& c : cases) {
    const Tensor x = randn({batch, c.cin, c.side, c.side}, kFloat32, &gen);
    Tensor w = (randn({c.cout, c.cin, c.kernel, c.kernel}, kFloat32, &gen) * 0.1).set_requires_grad(true);
    Tensor b = zeros({c.cout}).set_requires_grad(true);
    const Pair2 pad{c.kernel / 2, c.kernel / 2};
    const double fwd = median_ms([&] {
      NoGradGuard no_grad;
      conv2d(x, w, b, {1, 1}, pad);
    });
    const double both = median_ms([&] {
      w.zero_grad();
      b.zero_grad();
      conv2d(x, w, b, {1, 1}, pad).sum().backward();
    });
    std::printf("%s %.3f %.3f\n", c.name, fwd, both);
  }
  for (const auto& [name, channels, side] : {std::tuple{"bn_32_28", 32, 28}, std::tuple{"bn_128_14", 128, 14}}) {
    nn::BatchNorm2d bn(channels);
    Tensor x = randn({batch, channels, side, side}, kFloat32, &gen).set_requires_grad(true);
    const double fwd = median_ms([&] {
      NoGradGuard no_grad;
      bn(x);
    });
    const double both = median_ms([&] {
      x.zero_grad();
      bn(x).sum().backward();
    });
    std::printf("%s %.3f %.3f\n", name, fwd, both);
  }
  return 0;
}
