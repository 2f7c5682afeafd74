// The Tensor handle: factories, layout, views sharing storage, copies, casts, element access,
// printing, and the errors each gives on bad input.
#include <sstream>

#include "tests/helpers.h"

using namespace facet;

TEST_CASE("factories give the shape, dtype and values asked for") {
  const Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.device() == Device::cpu());
  CHECK(z.numel() == 6);
  CHECK(z.strides() == Shape{3, 1});
  for (float v : z.to_vector<float>()) CHECK(v == 0.0f);
  for (double v : ones({4}, kFloat64).to_vector<double>()) CHECK(v == 1.0);
  for (int64_t v : full({2, 2}, 7, kInt64).to_vector<int64_t>()) CHECK(v == 7);
  CHECK(scalar_tensor(2.5).dim() == 0);
  CHECK(scalar_tensor(2.5).item<double>() == 2.5);
  CHECK(arange(5, kInt64).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(1.0, 2.0, 0.25, kFloat64).to_vector<double>() == std::vector<double>{1.0, 1.25, 1.5, 1.75});
  CHECK(arange(3.0, 0.0, -1.0).to_vector<float>() == std::vector<float>{3, 2, 1});
  CHECK(arange(2.0, 2.0).numel() == 0);
  const Tensor t = tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.at<double>({1, 2}) == 6.0);
  CHECK(t.at<int64_t>({0, 1}) == 2);
  CHECK(zeros_like(t).dtype() == kFloat64);
  CHECK(full_like(t, 3).to_vector<double>() == std::vector<double>(6, 3.0));
  CHECK(zeros({0, 3}).numel() == 0);
}

TEST_CASE("views share storage; contiguous and clone copy") {
  Tensor t = arange(0.0, 12.0).reshape({3, 4});
  CHECK(t.is_contiguous());
  const Tensor tt = t.t();
  CHECK(tt.shape() == Shape{4, 3});
  CHECK(tt.strides() == Shape{1, 4});
  CHECK_FALSE(tt.is_contiguous());
  CHECK(tt.storage() == t.storage());
  CHECK(tt.at<float>({3, 1}) == 7.0f);
  const Tensor c = tt.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.storage() != t.storage());
  CHECK(c.to_vector<float>() == tt.to_vector<float>());
  CHECK(t.contiguous().storage() == t.storage());  // already contiguous: no copy

  const Tensor row = t.narrow(0, 1, 1);
  CHECK(row.to_vector<float>() == std::vector<float>{4, 5, 6, 7});
  const Tensor cols = t.slice(1, 1, 4, 2);
  CHECK(cols.shape() == Shape{3, 2});
  CHECK(cols.to_vector<float>() == std::vector<float>{1, 3, 5, 7, 9, 11});
  CHECK(t.slice(1, -2, 100).to_vector<float>() == std::vector<float>{2, 3, 6, 7, 10, 11});  // Python bounds
  const Tensor p = arange(0.0, 24.0).reshape({2, 3, 4}).permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.at<float>({3, 1, 2}) == 23.0f);
  CHECK(t.flatten().shape() == Shape{12});
  CHECK(arange(0.0, 24.0).reshape({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
  CHECK(t.reshape({-1, 2}).shape() == Shape{6, 2});
  CHECK(t.unsqueeze(0).shape() == Shape{1, 3, 4});
  CHECK(t.unsqueeze(-1).shape() == Shape{3, 4, 1});
  CHECK(t.unsqueeze(0).squeeze(0).shape() == Shape{3, 4});
  CHECK(t.squeeze(0).shape() == Shape{3, 4});  // not size 1: unchanged, as PyTorch
  const Tensor e = tensor(std::vector<float>{1, 2, 3}).reshape({3, 1}).expand({3, 4});
  CHECK(e.strides() == Shape{1, 0});
  CHECK(e.at<float>({2, 3}) == 3.0f);

  ops::fill_(row, -1.0);  // writing through a view changes the base
  CHECK(t.at<float>({1, 2}) == -1.0f);
  const Tensor k = t.clone();
  ops::fill_(k, 9.0);
  CHECK(t.at<float>({0, 0}) == 0.0f);
}

TEST_CASE("view follows the stride rule; reshape copies only when it must") {
  const Tensor t = arange(0.0, 24.0).reshape({2, 3, 4});
  CHECK(t.view({6, 4}).storage() == t.storage());
  CHECK(t.view({2, 12}).storage() == t.storage());
  // A slice along the last dim keeps rows contiguous in pieces: merging the first two dims is fine.
  const Tensor s = t.slice(2, 0, 2);
  CHECK(s.view({6, 2}).to_vector<float>() == s.contiguous().view({6, 2}).to_vector<float>());
  // A transposed tensor cannot be flattened without a copy.
  const Tensor tr = t.transpose(1, 2);
  tests::expect_error([&] { tr.view({2, 12}); }, {"view", "[2, 12]", "non-contiguous", "float32[2, 4, 3]"});
  const Tensor r = tr.reshape({2, 12});
  CHECK(r.storage() != t.storage());
  CHECK(r.at<float>({0, 1}) == 4.0f);
  CHECK(tr.reshape({2, 4, 3}).storage() == t.storage());
}

TEST_CASE("to(dtype) converts; item, at and to_vector read values") {
  const Tensor d = tensor(std::vector<float>{1.5f, -2.25f}).to(kFloat64);
  CHECK(d.dtype() == kFloat64);
  CHECK(d.to_vector<double>() == std::vector<double>{1.5, -2.25});
  CHECK(d.to(kInt64).to_vector<int64_t>() == std::vector<int64_t>{1, -2});  // truncation, as a C++ cast
  const Tensor t = tensor(std::vector<float>{3.0f});
  CHECK(t.to(kFloat32).storage() == t.storage());  // same dtype: the same tensor
  CHECK(t.item<float>() == 3.0f);
  CHECK(tensor(std::vector<int64_t>{1, 2, 3}).sum().item<int64_t>() == 6);
}

TEST_CASE("a tensor prints like PyTorch") {
  std::ostringstream a, b, c, d;
  a << tensor(std::vector<float>{1, -2.5f, 3, 4}, {2, 2});
  CHECK(a.str() == "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])");
  b << tensor(std::vector<int64_t>{3, 10});
  CHECK(b.str() == "tensor([ 3, 10], dtype=int64)");
  c << scalar_tensor(0.5, kFloat64);
  CHECK(c.str() == "tensor(0.5000, dtype=float64)");
  d << arange(0.0, 2000.0);
  CHECK(d.str().find("...") != std::string::npos);
  CHECK(d.str().find("1999.0000") != std::string::npos);
}

TEST_CASE("from_blob wraps caller memory without copying") {
  std::vector<double> host{1, 2, 3, 4};
  const Tensor t = from_blob(host.data(), {2, 2}, kFloat64);
  host[3] = 40;
  CHECK(t.at<double>({1, 1}) == 40.0);
}

TEST_CASE("Device: the CPU is always there, and best() never crashes") {
  CHECK(Device::cpu().is_cpu());
  CHECK(Device::cpu().str() == "cpu");
  const Device best = Device::best();
  CHECK((best.is_cpu() || cuda_device_count() > 0));
  if (cuda_device_count() == 0) {
    CHECK(best == Device::cpu());
    tests::expect_error([] { Device::cuda(0); }, {"Device::cuda", built_with_cuda() ? "no GPU" : "without CUDA"});
  }
  tests::expect_error([] { Device::cuda(cuda_device_count() + 3); }, {"Device::cuda"});
}

TEST_CASE("bad input to the tensor API is a facet::Error naming the op and what it got") {
  const Tensor t = zeros({2, 3});
  tests::expect_error([&] { t.item<float>(); }, {"item", "one element", "float32[2, 3]"});
  tests::expect_error([&] { t.at<float>({2, 0}); }, {"at", "index in [0, 2)", "2"});
  tests::expect_error([&] { t.at<float>({0}); }, {"at", "2 indices"});
  tests::expect_error([&] { t.reshape({4, 2}); }, {"reshape", "6 elements", "[4, 2]"});
  tests::expect_error([&] { t.reshape({-1, -1}); }, {"reshape", "-1"});
  tests::expect_error([&] { t.reshape({-1, 4}); }, {"reshape", "[-1, 4]"});
  tests::expect_error([&] { t.transpose(0, 2); }, {"transpose", "dim 2"});
  tests::expect_error([&] { t.sum(-3); }, {"sum", "dim -3"});
  tests::expect_error([&] { t.permute({0, 0}); }, {"permute", "each dim exactly once"});
  tests::expect_error([&] { t.narrow(1, 2, 2); }, {"narrow", "start + length <= 3"});
  tests::expect_error([&] { t.slice(0, 0, 2, 0); }, {"slice", "positive step"});
  tests::expect_error([&] { t.expand({3, 3}); }, {"expand", "[3, 3]", "float32[2, 3]"});
  tests::expect_error([&] { tensor(std::vector<float>{1, 2, 3}, {2, 2}); }, {"tensor", "4 values", "3 values"});
  tests::expect_error([&] { zeros({-1}); }, {"empty", "non-negative"});
  tests::expect_error([&] { arange(0.0, 1.0, 0.0); }, {"arange", "non-zero step"});
  tests::expect_error([&] { t.data<double>(); }, {"data", "float64", "float32[2, 3]"});
  tests::expect_error([&] { Tensor().shape(); }, {"undefined"});
  // A device that does not exist (cuda:0 is one only without a GPU).
  const int missing = cuda_device_count();
  tests::expect_error([&] { t.to(Device{DeviceType::CUDA, missing}); }, {"to", "cuda:" + std::to_string(missing)});
}

TEST_CASE("view, when the strides allow it, reads exactly what a copying reshape reads") {
  // Regroupings of 24 and 12 elements (with size-1 dims too), from contiguous, sliced, transposed
  // and expanded layouts: view either refuses with facet::Error or agrees with reshape.
  const Tensor base = arange(0.0, 48.0).reshape({2, 2, 3, 4});
  const std::vector<Tensor> layouts = {
      base.narrow(0, 0, 1).squeeze(0),
      base.narrow(1, 1, 1).squeeze(1),
      base.slice(3, 0, 4, 2).narrow(0, 0, 1).squeeze(0),  // [2, 3, 2], every other column
      base.narrow(0, 0, 1).squeeze(0).transpose(0, 1),
      base.narrow(0, 0, 1).squeeze(0).permute({2, 0, 1}),
      tensor(std::vector<float>{1, 2, 3}).reshape({1, 3, 1}).expand({2, 3, 4}),
  };
  const std::vector<Shape> targets = {{24}, {6, 4}, {2, 12}, {4, 6}, {2, 3, 4}, {1, 24, 1}, {3, 8}, {2, 1, 12},
                                      {12}, {6, 2}, {2, 6}, {3, 4}, {1, 12}};
  int viewed = 0, refused = 0;
  for (const Tensor& t : layouts) {
    for (const Shape& target : targets) {
      if (numel_of(target) != t.numel()) continue;
      const std::vector<float> expected = t.contiguous().reshape(target).to_vector<float>();
      try {
        const Tensor v = t.view(target);
        CHECK(v.storage() == t.storage());
        CHECK(v.to_vector<float>() == expected);
        ++viewed;
      } catch (const Error&) {
        ++refused;
      }
      CHECK(t.reshape(target).to_vector<float>() == expected);
    }
  }
  CHECK(viewed > 0);
  CHECK(refused > 0);
}
