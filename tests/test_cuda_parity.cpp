// CUDA against the CPU: every op on fresh random inputs of awkward sizes (1, 7, 33, 1023, 4097)
// and on non-contiguous views, with every new allocation poisoned (tests/main.cpp) so an
// unwritten output element fails. Relative error < 1e-5 with TF32 off. Runs only where a GPU is
// found; elsewhere the "cuda" suite is counted as skipped.
#include <cmath>
#include <filesystem>
#include <functional>

#include "tests/helpers.h"

using namespace facet;

namespace {

const int64_t kSizes[] = {1, 7, 33, 1023, 4097};

Device gpu() { return Device::cuda(0); }

// The CUDA result has the CPU result's shape and dtype, lives on the GPU, and agrees within tol.
void check_parity(const Tensor& on_cpu, const Tensor& on_gpu, double tol = 1e-5) {
  REQUIRE(on_gpu.device().is_cuda());
  CHECK(on_gpu.shape() == on_cpu.shape());
  CHECK(on_gpu.dtype() == on_cpu.dtype());
  const std::vector<double> g = on_gpu.to_vector<double>(), c = on_cpu.to_vector<double>();
  REQUIRE(g.size() == c.size());
  // NaNs and infinities must sit at the same places (an infinity minus itself would make the
  // relative error NaN); the finite numbers elsewhere must agree.
  int64_t special_mismatch = 0;
  std::vector<double> gn, cn;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool g_finite = std::isfinite(g[i]), c_finite = std::isfinite(c[i]);
    if (g_finite && c_finite) {
      gn.push_back(g[i]);
      cn.push_back(c[i]);
    } else {
      special_mismatch += !(g[i] == c[i] || (std::isnan(g[i]) && std::isnan(c[i])));
    }
  }
  CHECK(special_mismatch == 0);
  CHECK(tests::rel_error(gn, cn) <= tol);
}

// Runs fn on CPU inputs and on their GPU copies and compares.
void check_op(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& cpu_inputs,
              double tol = 1e-5) {
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& t : cpu_inputs) gpu_inputs.push_back(t.to(gpu()));
  check_parity(fn(cpu_inputs), fn(gpu_inputs), tol);
}

}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("[cuda] transfers round-trip, from pageable and pinned memory") {
    Generator gen(1);
    for (int64_t n : kSizes) {
      const Tensor x = randn({n}, kFloat32, &gen);
      CHECK(x.to(gpu()).to(Device::cpu()).to_vector<float>() == x.to_vector<float>());
      const Tensor pinned = x.pin_memory();
      CHECK(pinned.storage()->pinned());
      const Tensor g = pinned.to(gpu());
      cuda::synchronize(0);
      CHECK(g.to_vector<float>() == x.to_vector<float>());
    }
    const Tensor t = randn({33, 7}, kFloat64, &gen).t();  // non-contiguous source
    CHECK(t.to(gpu()).to_vector<double>() == t.to_vector<double>());
  }

  // cuda/pinned_allocator.cu: a released pinned block waits for the copies queued before its
  // release, then serves the next request of its size class.
  TEST_CASE("[cuda] pinned blocks: no reuse while a copy from them may run, reuse once it has") {
    const int64_t n = 1 << 20;
    const Tensor busy = randn({2048, 2048}, kFloat32).to(gpu());
    Tensor copied;
    const void* first = nullptr;
    {
      Tensor host = full({n}, 3.0, kFloat32).pin_memory();
      first = host.raw_data();
      for (int i = 0; i < 4; ++i) matmul(busy, busy);  // milliseconds of work ahead of the copy
      copied = host.to(gpu());
    }  // released with the copy most likely still queued
    Tensor next = empty({n}, kFloat32).pin_memory();
    next.fill_(5.0);  // had `next` taken the block too soon, the copy would read fives
    CHECK(copied.to(Device::cpu()).to_vector<float>() == std::vector<float>(n, 3.0f));
    cuda::synchronize(0);
    const void* taken = next.raw_data();
    next = Tensor();
    const Tensor after = empty({n}, kFloat32).pin_memory();  // both released blocks are idle now
    CHECK((after.raw_data() == first || after.raw_data() == taken));
  }

  TEST_CASE("[cuda] unary ops") {
    struct Case {
      UnaryOp op;
      double lo, hi;  // input range
      double a, b;    // the op's scalar arguments (pow's exponent; clamp's bounds)
    };
    const Case cases[] = {{UnaryOp::Neg, -3, 3, 0, 0},     {UnaryOp::Exp, -3, 3, 0, 0},
                          {UnaryOp::Log, 0.1, 5, 0, 0},    {UnaryOp::Sqrt, 0.1, 5, 0, 0},
                          {UnaryOp::Abs, -3, 3, 0, 0},     {UnaryOp::Sign, -3, 3, 0, 0},
                          {UnaryOp::Relu, -3, 3, 0, 0},    {UnaryOp::Sigmoid, -9, 9, 0, 0},
                          {UnaryOp::Tanh, -3, 3, 0, 0},    {UnaryOp::PowScalar, 0.1, 3, 1.5, 0},
                          {UnaryOp::Clamp, -2, 2, -0.5, 0.75}};
    for (const Case& c : cases)
      for (DType dtype : {kFloat32, kFloat64})
        for (int64_t n : kSizes) {
          INFO(unary_op_name(c.op) << " n=" << n << " " << dtype_name(dtype));
          Generator gen(n);
          const Tensor x = uniform({n}, c.lo, c.hi, dtype, &gen);
          check_op([&](const std::vector<Tensor>& in) { return ops::unary(c.op, in[0], c.a, c.b); }, {x});
          check_op([&](const std::vector<Tensor>& in) { return ops::unary(c.op, in[0].slice(0, 0, n, 2), c.a, c.b); }, {x});
        }
  }

  TEST_CASE("[cuda] binary ops with broadcasting and transposed operands") {
    for (int op_index = 0; op_index <= static_cast<int>(BinaryOp::ReluBackward); ++op_index) {
      const BinaryOp op = static_cast<BinaryOp>(op_index);
      for (int64_t n : kSizes) {
        INFO(binary_op_name(op) << " n=" << n);
        Generator gen(n + 7);
        // Signed operands for the two relu ops, so that both sides of their select run.
        const double lo = op == BinaryOp::AddRelu || op == BinaryOp::ReluBackward ? -2.0 : 0.5;
        const Tensor a = uniform({n, 3}, lo, 2.0, kFloat32, &gen), b = uniform({3}, lo, 2.0, kFloat32, &gen);
        const Tensor c = uniform({3, n}, lo, 2.0, kFloat32, &gen);
        check_op([op](const std::vector<Tensor>& in) { return ops::binary(op, in[0], in[1]); }, {a, b});
        check_op([op](const std::vector<Tensor>& in) { return ops::binary(op, in[0], in[1].t()); }, {a, c});
        check_op([op](const std::vector<Tensor>& in) { return ops::binary(op, in[0], 1.25); }, {a});
      }
    }
    const Tensor i = tensor(std::vector<int64_t>{1, 2, 3, 4}), j = tensor(std::vector<int64_t>{4, 2, 3, 1});
    check_op([](const std::vector<Tensor>& in) { return ops::binary(BinaryOp::Add, in[0], in[1]); }, {i, j});
    check_op([](const std::vector<Tensor>& in) { return ops::binary(BinaryOp::Eq, in[0], in[1]); }, {i, j});
  }

  TEST_CASE("[cuda] where, copy, cast and fill") {
    for (int64_t n : kSizes) {
      Generator gen(n + 11);
      const Tensor c = ops::binary(BinaryOp::Gt, rand({n, 1}, kFloat32, &gen), 0.5);
      const Tensor a = randn({n, 5}, kFloat64, &gen), b = randn({5}, kFloat64, &gen);
      check_op([](const std::vector<Tensor>& in) { return ops::where(in[0], in[1], in[2]); }, {c, a, b});
      check_op([](const std::vector<Tensor>& in) { return in[0].t().contiguous(); }, {a});
      check_op([](const std::vector<Tensor>& in) { return ops::cast(in[0].t(), kFloat32); }, {a});
      check_op([](const std::vector<Tensor>& in) { return ops::cast(in[0], kInt64); }, {a});
      check_op([](const std::vector<Tensor>& in) {
        Tensor out = zeros_like(in[0]);
        ops::fill_(out.slice(1, 0, 5, 2), 3.5);
        return out;
      }, {a});
    }
  }

  TEST_CASE("[cuda] reductions whole and along each dim, including rows longer than one chunk") {
    for (int64_t n : {1, 7, 33, 1023, 4097, 100003}) {
      Generator gen(n + 13);
      for (DType dtype : {kFloat32, kFloat64}) {
        const Tensor x = randn({n}, dtype, &gen);
        check_op([](const std::vector<Tensor>& in) { return ops::sum(in[0]); }, {x});
        check_op([](const std::vector<Tensor>& in) { return ops::mean(in[0]); }, {x});
        check_op([](const std::vector<Tensor>& in) { return ops::max(in[0]); }, {x});
        check_op([](const std::vector<Tensor>& in) { return ops::argmax(in[0]); }, {x}, 0.0);
      }
    }
    Generator gen(17);
    const Tensor x = randn({7, 33, 5}, kFloat32, &gen);
    for (int64_t dim : {0, 1, 2})
      for (bool keepdim : {false, true}) {
        check_op([=](const std::vector<Tensor>& in) { return ops::sum(in[0], dim, keepdim); }, {x});
        check_op([=](const std::vector<Tensor>& in) { return ops::max(in[0], dim, keepdim); }, {x});
        check_op([=](const std::vector<Tensor>& in) { return ops::argmax(in[0], dim, keepdim); }, {x}, 0.0);
        check_op([=](const std::vector<Tensor>& in) { return ops::mean(in[0].transpose(0, 2), dim, keepdim); }, {x});
      }
    const Tensor labels = tensor(std::vector<int64_t>{3, -1, 7, 7, 2});
    check_op([](const std::vector<Tensor>& in) { return ops::sum(in[0]); }, {labels}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return ops::argmax(in[0]); }, {labels}, 0.0);  // ties: first index
    const Tensor with_nan = tensor(std::vector<double>{1, NAN, 5, NAN});
    CHECK(ops::argmax(with_nan.to(gpu())).item<int64_t>() == 1);
  }

  TEST_CASE("[cuda] matmul: 2-d, batched, broadcast batch and transposed views") {
    for (int64_t m : {1, 7, 33})
      for (int64_t k : {1, 33, 1023})
        for (int64_t n : {1, 7, 33}) {
          INFO("m=" << m << " k=" << k << " n=" << n);
          Generator gen(m * 10000 + k * 100 + n);
          const Tensor a = randn({m, k}, kFloat32, &gen), b = randn({k, n}, kFloat32, &gen);
          check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1]); }, {a, b});
          check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[1].t(), in[0].t()); }, {a, b});
          const Tensor ab = randn({3, m, k}, kFloat64, &gen), bb = randn({3, k, n}, kFloat64, &gen);
          check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1]); }, {ab, bb});
          check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[0].narrow(0, 0, 1), in[1]); }, {ab, bb});
          check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1].narrow(0, 1, 1)); }, {ab, bb});
        }
  }

  TEST_CASE("[cuda] matmul with TF32 allowed stays within TF32's bound, and the switch is off by default") {
    CHECK_FALSE(cuda::allow_tf32());
    struct Tf32 {  // restores the default even when a check below throws
      Tf32() { cuda::set_allow_tf32(true); }
      ~Tf32() { cuda::set_allow_tf32(false); }
    };
    Generator gen(5);
    const Tensor a = randn({64, 512}, kFloat32, &gen), b = randn({512, 64}, kFloat32, &gen);
    const Tensor exact = ops::matmul(a.to(gpu()), b.to(gpu()));
    check_parity(ops::matmul(a, b), exact);
    Tensor fast;
    {
      Tf32 on;
      fast = ops::matmul(a.to(gpu()), b.to(gpu()));
    }
    CHECK_FALSE(cuda::allow_tf32());
    // TF32 keeps 10 mantissa bits: it must change the product (the switch works) but stay within
    // its bound, ~2^-11 per product averaged over k.
    const double diff = tests::rel_error(fast.to_vector<double>(), exact.to_vector<double>());
    CHECK(diff > 1e-6);
    CHECK(diff < 5e-3);
  }

  TEST_CASE("[cuda] softmax, log_softmax and normalize along rows and columns") {
    for (int64_t n : kSizes) {
      Generator gen(n + 19);
      const Tensor x = randn({5, n}, kFloat32, &gen) * 10.0;
      for (int64_t dim : {0, 1}) {
        check_op([=](const std::vector<Tensor>& in) { return ops::softmax(in[0], dim); }, {x});
        check_op([=](const std::vector<Tensor>& in) { return ops::log_softmax(in[0], dim); }, {x});
        check_op([=](const std::vector<Tensor>& in) { return ops::normalize(in[0], dim, 1e-12); }, {x});
      }
    }
    check_op([](const std::vector<Tensor>& in) { return ops::normalize(in[0], 1, 1e-3); }, {zeros({3, 4})});
    // normalize's fused backward, along rows and columns, with a row below eps.
    Generator bgen(12);
    const Tensor xb = ops::binary(BinaryOp::Mul, randn({33, 1023}, kFloat32, &bgen), ops::unsqueeze(rand({33}, kFloat32, &bgen), 1));
    const Tensor gb = randn({33, 1023}, kFloat32, &bgen);
    for (int64_t dim : {0, 1})
      check_op([=](const std::vector<Tensor>& in) { return ops::normalize_backward(in[0], in[1], dim, 1e-12); }, {xb, gb});
    check_op([](const std::vector<Tensor>& in) { return ops::normalize_backward(in[0], in[1], 1, 1e-3); },
             {tensor(std::vector<float>{1e-4f, 0, 3, 4}, {2, 2}), ones({2, 2})});
  }

  TEST_CASE("[cuda] indexing: index_select, index_add, gather, scatter_add, one_hot") {
    for (int64_t n : kSizes) {
      Generator gen(n + 23);
      const Tensor x = randn({n, 6}, kFloat32, &gen);
      const Tensor rows = ops::cast(ops::binary(BinaryOp::Mul, rand({9}, kFloat64, &gen), static_cast<double>(n)), kInt64);
      const Tensor cols = ops::cast(ops::binary(BinaryOp::Mul, rand({n, 4}, kFloat64, &gen), 6.0), kInt64);
      check_op([](const std::vector<Tensor>& in) { return ops::index_select(in[0], 0, in[1]); }, {x, rows});
      check_op([](const std::vector<Tensor>& in) { return ops::gather(in[0], 1, in[1]); }, {x, cols});
      const Tensor src_rows = randn({9, 6}, kFloat32, &gen), src_cols = randn({n, 4}, kFloat32, &gen);
      // Atomic float adds: the order varies, the sum agrees to rounding.
      check_op([](const std::vector<Tensor>& in) { return ops::index_add(in[0], 0, in[1], in[2]); }, {x, rows, src_rows});
      check_op([](const std::vector<Tensor>& in) { return ops::scatter_add(in[0], 1, in[1], in[2]); }, {x, cols, src_cols});
      check_op([](const std::vector<Tensor>& in) { return ops::one_hot(in[0], 6); }, {cols});
    }
    // On the GPU a bad index is reported at the next wait (cuda/index_checks.cu), so the lambda waits.
    tests::expect_error(
        [] {
          (void)ops::index_select(ones({3}).to(gpu()), 0, tensor(std::vector<int64_t>{3}).to(gpu()));
          cuda::synchronize(0);
        },
        {"index_select", "[0, 3)", "3"});
  }

  TEST_CASE("[cuda] edge cases: chunked rows with several rows, ties and NaN across chunks, empty tensors") {
    Generator gen(29);
    const Tensor rows = randn({3, 20000}, kFloat32, &gen);  // 20000 > one 8192-element chunk
    check_op([](const std::vector<Tensor>& in) { return ops::sum(in[0], 1, false); }, {rows});
    check_op([](const std::vector<Tensor>& in) { return ops::argmax(in[0], 1, false); }, {rows}, 0.0);
    std::vector<double> v(20000, 1.0);
    v[9000] = 7.0;
    v[17000] = 7.0;  // a tie in another chunk: the first index wins
    check_op([](const std::vector<Tensor>& in) { return ops::argmax(in[0]); }, {tensor(v)}, 0.0);
    v[15000] = NAN;
    check_op([](const std::vector<Tensor>& in) { return ops::argmax(in[0]); }, {tensor(v)}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return ops::max(in[0]); }, {tensor(v)});
    // Few lanes over a long dim (a bias gradient's shape): n cut into chunks per lane, combined in
    // order, with a tie and a NaN in different chunks of one lane.
    const Tensor tall = randn({5000, 3}, kFloat32, &gen);
    for (int64_t dim : {0, 1}) {
      check_op([=](const std::vector<Tensor>& in) { return ops::sum(in[0], dim, false); }, {tall});
      check_op([=](const std::vector<Tensor>& in) { return ops::mean(in[0], dim, false); }, {tall});
      check_op([=](const std::vector<Tensor>& in) { return ops::max(in[0], dim, false); }, {tall});
      check_op([=](const std::vector<Tensor>& in) { return ops::argmax(in[0], dim, false); }, {tall}, 0.0);
    }
    std::vector<double> lanes(3000 * 2, 0.0);
    lanes[2 * 100] = lanes[2 * 2500] = 9.0;  // lane 0: a tie far apart, the first index wins
    lanes[2 * 2900 + 1] = NAN;               // lane 1: a NaN in a late chunk wins
    check_op([](const std::vector<Tensor>& in) { return ops::argmax(in[0], 0, false); }, {tensor(lanes, {3000, 2})}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return ops::max(in[0], 0, false); }, {tensor(lanes, {3000, 2})});
    std::vector<int64_t> big(10000, int64_t{1} << 40);
    check_op([](const std::vector<Tensor>& in) { return ops::sum(in[0]); }, {tensor(big)}, 0.0);
    // Empty tensors: every op returns an empty (or zero) result without launching garbage.
    check_op([](const std::vector<Tensor>& in) { return ops::sum(in[0], 1, false); }, {zeros({3, 0})});
    check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1]); }, {zeros({4, 0}), zeros({0, 5})});
    check_op([](const std::vector<Tensor>& in) { return ops::binary(BinaryOp::Add, in[0], in[1]); }, {zeros({0, 3}), ones({3})});
    check_op([](const std::vector<Tensor>& in) { return ops::index_select(in[0], 0, in[1]); },
             {ones({4, 2}), tensor(std::vector<int64_t>{})});
    // -inf logits get probability 0 (an all -inf row is NaN on both, as in PyTorch); a NaN inside
    // a normalized row makes the row NaN on both.
    const Tensor masked = tensor(std::vector<float>{-INFINITY, 0, -INFINITY, 1, -INFINITY, -INFINITY}, {2, 3});
    check_op([](const std::vector<Tensor>& in) { return ops::softmax(in[0], 1); }, {masked});
    check_op([](const std::vector<Tensor>& in) { return ops::log_softmax(in[0], 1); }, {masked.narrow(0, 0, 1)});
    check_op([](const std::vector<Tensor>& in) { return ops::softmax(in[0], 1); }, {masked.narrow(0, 1, 1)});
    check_op([](const std::vector<Tensor>& in) { return ops::normalize(in[0], 1, 1e-12); },
             {tensor(std::vector<double>{NAN, 1, 2, 3}, {2, 2})});
    // Batch entries at no single stride: one cuBLAS call per entry.
    const Tensor a = randn({2, 1, 7, 5}, kFloat32, &gen), b = randn({1, 3, 5, 4}, kFloat32, &gen);
    check_op([](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1]); }, {a, b});
  }

  TEST_CASE("[cuda] convolution and pooling: im2col, col2im, max pooling, conv2d forward and backward") {
    Generator gen(31);
    const ops::Window w{{3, 2}, {2, 1}, {1, 1}, {1, 2}};
    for (int64_t side : {1, 7, 33}) {
      INFO("side " << side);
      const Tensor x = randn({2, 3, side + 4, side + 2}, kFloat32, &gen);
      check_op([&](const std::vector<Tensor>& in) { return ops::im2col(in[0], w); }, {x});
      const Tensor cols = ops::im2col(x, w);
      check_op([&](const std::vector<Tensor>& in) { return ops::col2im(in[0], x.shape(), w); }, {cols});
      check_op([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], ops::Window{{2, 2}, {2, 2}}).first; }, {x});
      check_op([](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], ops::Window{{3, 3}, {2, 2}, {1, 1}}).second; },
               {x}, 0.0);
      check_op([](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {2, 2}); }, {x});
      // The gathered backward (cuda/window.cu) against the CPU's scatter, overlapping windows too.
      for (const ops::Window& pool : {ops::Window{{2, 2}, {2, 2}}, ops::Window{{3, 3}, {2, 2}, {1, 1}}}) {
        const auto [values, indices] = ops::max_pool2d(x, pool);
        const Tensor g = randn(values.shape(), kFloat32, &gen);
        check_op([&](const std::vector<Tensor>& in) { return ops::max_pool2d_backward(in[0], in[1], x.shape(), pool); },
                 {g, indices});
      }
    }
    const Tensor x = randn({4, 3, 9, 8}, kFloat32, &gen), wt = randn({5, 3, 3, 3}, kFloat32, &gen);
    const Tensor b = randn({5}, kFloat32, &gen);
    std::vector<std::vector<Tensor>> grads;
    for (Device d : {Device::cpu(), gpu()}) {
      // detach: on the CPU, to() hands back the tensor itself, whose grad flag must not reach the GPU copy.
      Tensor xd = x.to(d).detach().set_requires_grad(true), wd = wt.to(d).detach().set_requires_grad(true),
             bd = b.to(d).detach().set_requires_grad(true);
      const Tensor y = max_pool2d(relu(conv2d(xd, wd, bd, {1, 1}, {1, 1})), {2, 2});
      (y * y).sum().backward();
      grads.push_back({y.detach(), xd.grad(), wd.grad(), bd.grad()});
    }
    for (size_t k = 0; k < grads[0].size(); ++k) check_parity(grads[0][k], grads[1][k], 1e-4);
  }

  TEST_CASE("[cuda] fused batchnorm: statistics, forward and backward") {
    // The last three cut each channel into several chunks (cuda/batchnorm.cu's chunks_for), one of
    // them with a plane shorter than a block (the walk's carry into the next image).
    for (const Shape& shape : {Shape{7, 3}, Shape{4, 5, 33}, Shape{2, 3, 7, 9}, Shape{64, 3, 16, 16},
                               Shape{600, 2, 7, 7}, Shape{9000, 3}}) {
      Generator gen(41);
      const Tensor x = randn(shape, kFloat32, &gen) * 3.0 + 1.0, w = randn({shape[1]}, kFloat32, &gen);
      const Tensor b = randn({shape[1]}, kFloat32, &gen), g = randn(shape, kFloat32, &gen);
      check_op([](const std::vector<Tensor>& in) { return ops::batch_norm_stats(in[0]).first; }, {x});
      check_op([](const std::vector<Tensor>& in) { return ops::batch_norm_stats(in[0]).second; }, {x});
      for (int k = 0; k < 3; ++k)
        check_op([k](const std::vector<Tensor>& in) {
          const auto [mean, var] = ops::batch_norm_stats(in[0]);
          return ops::batch_norm_backward(in[1], in[0], mean, var, in[2], 1e-5, {true, true, true})[k];
        }, {x, g, w}, 1e-4);
      check_op([](const std::vector<Tensor>& in) { return batch_norm_train(in[0], in[1], in[2], 1e-5); }, {x, w, b});
      // With PReLU fused in, per-channel and shared slopes: the output and all four gradients.
      for (int64_t slopes : {shape[1], int64_t{1}}) {
        const Tensor a = rand({slopes}, kFloat32, &gen);
        check_op([](const std::vector<Tensor>& in) {
          const auto [mean, var] = ops::batch_norm_stats(in[0]);
          return ops::batch_norm_prelu_apply(in[0], mean, var, in[1], in[2], in[3], 1e-5);
        }, {x, w, b, a});
        for (int k = 0; k < 4; ++k)
          check_op([k](const std::vector<Tensor>& in) {
            const auto [mean, var] = ops::batch_norm_stats(in[0]);
            return ops::batch_norm_prelu_backward(in[1], in[0], mean, var, in[2], in[3], in[4], 1e-5,
                                                  {true, true, true, true})[k];
          }, {x, g, w, b, a}, 1e-4);
      }
    }
  }

  TEST_CASE("[cuda] batchnorm statistics far from zero and of an empty batch") {
    // A mean 1e4 times the spread: the GPU's one-pass sums stay accurate (shifted by x0).
    Generator gen(45);
    const Tensor x = randn({256, 4, 9, 9}, kFloat32, &gen) + 1e4;
    check_op([](const std::vector<Tensor>& in) { return ops::batch_norm_stats(in[0]).first; }, {x});
    check_op([](const std::vector<Tensor>& in) { return ops::batch_norm_stats(in[0]).second; }, {x}, 1e-4);
    // No values per channel: 0 / 0 on both sides.
    const auto [mean, var] = ops::batch_norm_stats(zeros({0, 3, 2, 2}, kFloat32, gpu()));
    for (float v : mean.to_vector<float>()) CHECK(std::isnan(v));
    for (float v : var.to_vector<float>()) CHECK(std::isnan(v));
  }

  TEST_CASE("[cuda] batchnorm's running statistics: the GPU's update is the CPU's, bit for bit") {
    Generator gen(43);
    for (const int64_t c : {1, 7, 1023}) {
      const Tensor rm = randn({c}, kFloat32, &gen), rv = rand({c}, kFloat32, &gen);
      const Tensor bm = randn({c}, kFloat32, &gen), bv = rand({c}, kFloat32, &gen);
      const Tensor cpu_m = rm.clone(), cpu_v = rv.clone(), cpu_n = zeros({}, kInt64);
      const Tensor gpu_m = rm.to(gpu()), gpu_v = rv.to(gpu()), gpu_n = zeros({}, kInt64, gpu());
      ops::batch_norm_update_running(cpu_m, cpu_v, cpu_n, bm, bv, 0.1, 50);
      ops::batch_norm_update_running(gpu_m, gpu_v, gpu_n, bm.to(gpu()), bv.to(gpu()), 0.1, 50);
      CHECK(gpu_m.to_vector<float>() == cpu_m.to_vector<float>());
      CHECK(gpu_v.to_vector<float>() == cpu_v.to_vector<float>());
      CHECK(gpu_n.item<int64_t>() == 1);
    }
    tests::expect_error([&] {
      ops::batch_norm_update_running(zeros({2}, kFloat32, gpu()), ones({2}, kFloat32, gpu()), Tensor(), zeros({2}),
                                     ones({2}, kFloat32, gpu()), 0.1, 4);
    }, {"batch_norm running statistics", "on cuda:0"});
  }

  TEST_CASE("[cuda] layers move with their module: a CNN step on the GPU matches the CPU") {
    manual_seed(5);
    nn::Sequential cpu_net(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::PReLU(4),
                           nn::MaxPool2d(2), nn::Flatten(), nn::Linear(4 * 4 * 4, 3));
    const std::string path = (std::filesystem::temp_directory_path() / "facet-cuda-cnn.safetensors").string();
    nn::save(*cpu_net, path);
    manual_seed(6);
    nn::Sequential gpu_net(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::PReLU(4),
                           nn::MaxPool2d(2), nn::Flatten(), nn::Linear(4 * 4 * 4, 3));
    gpu_net->to(gpu());
    nn::load(*gpu_net, path);  // the same weights, loaded onto the GPU
    Generator gen(8);
    const Tensor x = randn({6, 1, 8, 8}, kFloat32, &gen);
    optim::SGD cpu_opt(cpu_net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    optim::SGD gpu_opt(gpu_net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    for (int step = 0; step < 2; ++step) {
      cpu_opt.zero_grad();
      gpu_opt.zero_grad();
      cpu_net(x).sum().backward();
      gpu_net(x.to(gpu())).sum().backward();
      cpu_opt.step();
      gpu_opt.step();
    }
    const nn::NamedTensors cpu_params = cpu_net->named_parameters(), gpu_params = gpu_net->named_parameters();
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      INFO(cpu_params[i].first);
      check_parity(cpu_params[i].second, gpu_params[i].second, 1e-4);
    }
  }

  TEST_CASE("[cuda] Philox: the GPU draws the CPU's stream (uniforms bit for bit)") {
    for (int64_t n : kSizes)
      for (DType dtype : {kFloat32, kFloat64}) {
        Generator cpu_gen(99), gpu_gen(99);
        const Tensor on_cpu = empty({n}, dtype), on_gpu = empty({n}, dtype, gpu());
        ops::uniform_(on_cpu, -1, 2, cpu_gen);
        ops::uniform_(on_gpu, -1, 2, gpu_gen);
        CHECK(on_gpu.to_vector<double>() == on_cpu.to_vector<double>());
        ops::normal_(on_cpu, 0, 1, cpu_gen);
        ops::normal_(on_gpu, 0, 1, gpu_gen);
        // float32 normals: the transform runs in double on both sides and rounds once; a last-bit
        // libm difference can still flip a rounding, so allow one float ulp.
        check_parity(on_cpu, on_gpu, dtype == kFloat32 ? 1e-7 : 1e-12);
        CHECK(cpu_gen.offset() == gpu_gen.offset());
      }
  }

  TEST_CASE("[cuda] autograd on the GPU gives the CPU's gradients") {
    Generator gen(3);
    const Tensor x = randn({16, 8}, kFloat32, &gen), w = randn({4, 8}, kFloat32, &gen);
    const Tensor y = ops::cast(ops::binary(BinaryOp::Mul, rand({16}, kFloat64, &gen), 4.0), kInt64);
    std::vector<Tensor> grads;
    for (Device d : {Device::cpu(), gpu()}) {
      Tensor wd = w.to(d).detach().set_requires_grad(true);
      const Tensor logits = normalize(linear(x.to(d), wd), 1) * 30.0;
      const Tensor loss = -(log_softmax(logits, 1) * one_hot(y.to(d), 4)).sum() / 16.0;
      loss.backward();
      grads.push_back(wd.grad());
    }
    check_parity(grads[0], grads[1]);
  }

  TEST_CASE("[cuda] SGD's fused step gives the CPU's parameters and momentum, bit for bit") {
    // Every product and sum rounds on its own on both backends (hd::mul_add), so no tolerance.
    for (int64_t n : kSizes) {
      CAPTURE(n);
      manual_seed(n);
      const Tensor start = randn({n});
      Tensor on_cpu = start.clone().set_requires_grad(true);
      Tensor on_gpu = start.to(gpu()).set_requires_grad(true);
      const auto o = optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4);
      optim::SGD cpu_opt({on_cpu}, o), gpu_opt({on_gpu}, o);
      for (int step = 0; step < 3; ++step) {
        const Tensor grad = randn({n});
        cpu_opt.zero_grad();
        gpu_opt.zero_grad();
        (on_cpu * grad).sum().backward();
        (on_gpu * grad.to(gpu())).sum().backward();
        cpu_opt.step();
        gpu_opt.step();
      }
      CHECK(on_gpu.detach().to(Device::cpu()).to_vector<float>() == on_cpu.detach().to_vector<float>());
      CHECK_FALSE(on_cpu.detach().to_vector<float>() == start.to_vector<float>());
    }
  }

  TEST_CASE("[cuda] the caching allocator reuses blocks and keeps statistics") {
    cuda::empty_cache(0);
    const cuda::MemoryStats before = cuda::memory_stats(0);
    CHECK(before.cached_bytes == 0);
    const void* first = nullptr;
    {
      const Tensor t = empty({1 << 20}, kFloat32, gpu());  // 4 MiB
      first = t.raw_data();
      CHECK(cuda::memory_stats(0).current_bytes == before.current_bytes + (size_t{4} << 20));
    }
    CHECK(cuda::memory_stats(0).current_bytes == before.current_bytes);
    CHECK(cuda::memory_stats(0).cached_bytes == size_t{4} << 20);
    CHECK(cuda::memory_stats(0).peak_bytes >= before.current_bytes + (size_t{4} << 20));
    const Tensor again = empty({1 << 20}, kFloat32, gpu());
    CHECK(again.raw_data() == first);  // reused, no cudaMalloc
    CHECK(cuda::memory_stats(0).cached_bytes == 0);
  }

  TEST_CASE("[cuda] bad input: a device mix, a device that does not exist, more memory than the GPU has") {
    tests::expect_error([] { ones({3}) + ones({3}).to(gpu()); }, {"add", "one device", "cpu", "cuda:0"});
    tests::expect_error([] { ops::matmul(ones({2, 2}), ones({2, 2}).to(gpu())); }, {"matmul", "one device"});
    tests::expect_error([] { ones({2}).to(Device{DeviceType::CUDA, cuda_device_count()}); }, {"to", "CUDA device index"});
    tests::expect_error([] { empty({int64_t{1} << 42}, kFloat32, gpu()); }, {"cuda allocate", "out of memory", "MiB"});
    const Tensor still_works = ones({4}).to(gpu()) * 2.0;  // the failed allocation left the device usable
    CHECK(still_works.sum().item<float>() == 8.0f);
  }
}
