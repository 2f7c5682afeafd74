// The loss heads on the GPU against the CPU: the fused kernels (forward and backward) at awkward
// batch and class counts, the margin transform, each head's module end to end, and labels on
// the wrong device. Runs only where a GPU is found.
#include <cmath>

#include "tests/helpers.h"

using namespace facet;

namespace {

Device gpu() { return Device::cuda(0); }

Tensor random_labels(int64_t rows, int64_t classes, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> y;
  for (double v : rand({rows}, kFloat64, &gen).to_vector<double>()) y.push_back(std::min<int64_t>(classes - 1, static_cast<int64_t>(v * classes)));
  return tensor(y);
}

void check_close(const Tensor& cpu, const Tensor& gpu_result, double tol = 1e-5) {
  REQUIRE(gpu_result.device().is_cuda());
  CHECK(gpu_result.shape() == cpu.shape());
  CHECK(tests::rel_error(gpu_result, cpu.to_vector<double>()) <= tol);
}

}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("[cuda] fused margin cross-entropy: forward and backward match the CPU at awkward sizes") {
    const MarginSpec specs[] = {margin_none(), margin_cosface(30, 0.4), margin_arcface(30, 0.5, false),
                                margin_arcface(30, 0.5, true), margin_combined(64, 1.0, 0.3, 0.2), margin_sphere(4, 5.0)};
    for (const MarginSpec& spec : specs)
      for (int64_t rows : {1, 7, 33})
        for (int64_t classes : {1, 7, 1023, 4097})
          for (double e : {0.0, 0.1}) {
            INFO("kind " << static_cast<int>(spec.kind) << ", " << rows << " x " << classes << ", smoothing " << e);
            Generator gen(rows * 131 + classes);
            const Tensor cos = uniform({rows, classes}, -1.0, 1.0, kFloat32, &gen);
            const Tensor y = random_labels(rows, classes, classes);
            const Tensor g = rand({rows}, kFloat32, &gen);
            const auto [loss_c, lse_c] = ops::margin_cross_entropy(cos, y, spec, e);
            const auto [loss_g, lse_g] = ops::margin_cross_entropy(cos.to(gpu()), y.to(gpu()), spec, e);
            check_close(loss_c, loss_g);
            check_close(lse_c, lse_g, 1e-12);
            check_close(ops::margin_cross_entropy_backward(g, cos, y, lse_c, spec, e),
                        ops::margin_cross_entropy_backward(g.to(gpu()), cos.to(gpu()), y.to(gpu()), lse_g, spec, e));
          }
  }

  TEST_CASE("[cuda] margin transform: values and slopes match the CPU, cos = ±1 included") {
    const Tensor cos = tensor(std::vector<float>{-1.0f, -0.95f, -0.5f, 0.0f, 0.3f, 0.9999f, 1.0f});
    for (const MarginSpec& spec : {margin_arcface(30, 0.5, false), margin_combined(64, 1.2, 0.3, 0.1), margin_sphere(4, 0)})
      for (bool slope : {false, true}) check_close(ops::margin_target(cos, spec, slope), ops::margin_target(cos.to(gpu()), spec, slope));
  }

  TEST_CASE("[cuda] every head module: loss and gradients on the GPU equal the CPU") {
    const int64_t rows = 33, dim = 16, classes = 10;
    const Tensor y = random_labels(rows, classes, 4);
    Generator gen(6);
    const Tensor x0 = randn({rows, dim}, kFloat32, &gen);
    auto compare = [&](auto& head, bool fused) {
      auto run = [&](Device d) {
        head->to(d);
        head->zero_grad();
        // detach: on the CPU, to() hands back x0 itself, whose grad flag must not reach the GPU copy.
        Tensor x = x0.to(d).detach().set_requires_grad(true);
        const Tensor loss = fused ? head->loss(x, y.to(d)) : nn::cross_entropy(head(x, y.to(d)), y.to(d));
        loss.backward();
        return std::vector<Tensor>{loss.to(Device::cpu()), x.grad().to(Device::cpu()), head->weight.grad().to(Device::cpu())};
      };
      const std::vector<Tensor> c = run(Device::cpu()), g = run(gpu());
      for (size_t i = 0; i < c.size(); ++i) CHECK(tests::rel_error(g[i], c[i].to_vector<double>()) <= 1e-5);
    };
    nn::AddMarginProduct cosface(dim, classes);
    nn::ArcMarginProduct arcface(dim, classes);
    nn::CombinedMarginProduct combined(dim, classes);
    nn::SubCenterArcMarginProduct subcenter(dim, classes, 3);
    for (bool fused : {true, false}) {
      compare(cosface, fused);
      compare(arcface, fused);
      compare(combined, fused);
      compare(subcenter, fused);
    }
    nn::SphereProduct sphere(dim, classes);
    sphere->eval();
    compare(sphere, false);
    CHECK(sphere->iteration.device().is_cpu());  // a host buffer: lambda never waits for the GPU
  }

  TEST_CASE("[cuda] CenterLoss: value, gradients and the paper's rule match the CPU") {
    const Tensor y = tensor(std::vector<int64_t>{0, 0, 2, 5, 2, 0, 1});
    Generator gen(8);
    const Tensor x = randn({7, 4}, kFloat32, &gen);
    nn::CenterLoss on_cpu(6, 4);
    nn::CenterLoss on_gpu(6, 4);
    ops::copy_(on_gpu->centers, on_cpu->centers);
    on_gpu->to(gpu());
    check_close(on_cpu(x, y), on_gpu(x.to(gpu()), y.to(gpu())));
    on_cpu->update_centers(x, y);
    on_gpu->update_centers(x.to(gpu()), y.to(gpu()));
    check_close(on_cpu->centers, on_gpu->centers);
  }

  TEST_CASE("[cuda] labels on another device than the logits are an error") {
    tests::expect_error([] { nn::cross_entropy(zeros({2, 3}, kFloat32, gpu()), tensor(std::vector<int64_t>{0, 1})); },
                        {"labels on cuda:0"});
  }

  // The range of a CUDA index is checked without a wait (cuda/index_checks.cu): the error comes at
  // the next wait, in the CPU check's words, and leaves nothing behind for the wait after it.
  TEST_CASE("[cuda] a label out of range is thrown at the next wait, naming its first position") {
    const Tensor logits = zeros({3, 4}, kFloat32, gpu());
    const Tensor bad = tensor(std::vector<int64_t>{0, 4, 9}).to(gpu()), good = tensor(std::vector<int64_t>{0, 3, 1}).to(gpu());
    Tensor loss;
    CHECK_NOTHROW(loss = nn::cross_entropy(logits, bad));
    tests::expect_error([&] { loss.to(Device::cpu()); }, {"labels in [0, 4)", "value 4 at position 1"});
    CHECK(nn::cross_entropy(logits, good).to(Device::cpu()).item<double>() == doctest::Approx(std::log(4.0)));
  }

  TEST_CASE("[cuda] index ops: a bad index is thrown at synchronize and never touches memory out of bounds") {
    const Tensor x = ones({3, 2}, kFloat32, gpu());
    const Tensor index = tensor(std::vector<int64_t>{2, -1, 7}).to(gpu());
    Tensor picked, added;
    CHECK_NOTHROW(picked = index_select(x, 0, index));
    tests::expect_error([] { cuda::synchronize(0); }, {"index_select", "[0, 3)", "value -1 at position 1"});
    CHECK_NOTHROW(added = index_add(zeros({3, 2}, kFloat32, gpu()), 0, index, ones({3, 2}, kFloat32, gpu())));
    tests::expect_error([] { cuda::synchronize(0); }, {"index_add", "value -1 at position 1"});
    // The skipped values: rows read as 0 and add nothing; the good index did its work.
    CHECK(picked.to(Device::cpu()).to_vector<double>() == std::vector<double>{1, 1, 0, 0, 0, 0});
    CHECK(added.to(Device::cpu()).to_vector<double>() == std::vector<double>{0, 0, 0, 0, 1, 1});
  }

  TEST_CASE("[cuda] more checks than the ring holds between waits: the failure keeps its own words") {
    const Tensor good = tensor(std::vector<int64_t>{0, 1}).to(gpu()), bad = tensor(std::vector<int64_t>{1, 5}).to(gpu());
    bool quiet = true;
    for (int i = 0; i < 1500; ++i)  // the ring holds 1024: one wait settles the first 1024 along the way
      quiet = quiet && [&] {
        try {
          one_hot(i == 1200 ? bad : good, 3);
          return true;
        } catch (const Error&) {
          return false;
        }
      }();
    CHECK(quiet);
    tests::expect_error([] { cuda::synchronize(0); }, {"one_hot", "labels in [0, 3)", "value 5 at position 1"});
    CHECK_NOTHROW(cuda::synchronize(0));
  }
}
