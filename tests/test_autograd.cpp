// The autograd engine: leaves, accumulation, shared subexpressions, seeds, NoGradGuard, detach,
// freeing the graph, and gradchecks for the view and copy ops.
#include <memory>

#include "autograd/node.h"
#include "tests/helpers.h"

using namespace facet;

TEST_CASE("backward through a small expression gives the hand-derived gradients") {
  Tensor x = tensor(std::vector<double>{1, 2, 3}).set_requires_grad(true);
  Tensor w = tensor(std::vector<double>{0.5, -1, 2}).set_requires_grad(true);
  const Tensor loss = (x * w + x * x).sum();  // dL/dx = w + 2x, dL/dw = x
  CHECK(loss.item<double>() == doctest::Approx(0.5 - 2 + 6 + 1 + 4 + 9));
  loss.backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2.5, 3, 8});
  CHECK(w.grad().to_vector<double>() == std::vector<double>{1, 2, 3});
  CHECK(x.is_leaf());
  CHECK_FALSE(loss.is_leaf());
  CHECK(loss.grad_fn_name() == "SumBackward");
  CHECK_FALSE(loss.grad().defined());  // non-leaves keep no .grad, as in PyTorch
}

TEST_CASE("gradients accumulate across backward calls until zero_grad") {
  Tensor x = tensor(std::vector<double>{1, 2}).set_requires_grad(true);
  (x * 3.0).sum().backward();
  (x * x).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{3 + 2, 3 + 4});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  (x * 2.0).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 2});
}

TEST_CASE("a node used twice waits for both gradients (reverse topological order)") {
  Tensor x = tensor(std::vector<double>{2}).set_requires_grad(true);
  const Tensor y = x * x;           // y used by two branches
  const Tensor z = y * y + y * 3.0;  // dz/dx = (2y + 3) * 2x = (8 + 3) * 4
  z.sum().backward();
  CHECK(x.grad().item<double>() == 44.0);
}

TEST_CASE("the same leaf in both operands of one op gets both contributions") {
  Tensor x = tensor(std::vector<double>{3}).set_requires_grad(true);
  (x * x).backward();
  CHECK(x.grad().item<double>() == 6.0);
  Tensor y = tensor(std::vector<double>{1, 2}).set_requires_grad(true);
  (y + y).sum().backward();
  CHECK(y.grad().to_vector<double>() == std::vector<double>{2, 2});
}

TEST_CASE("a non-scalar output takes a seed gradient of its shape") {
  Tensor x = tensor(std::vector<double>{1, 2, 3}).set_requires_grad(true);
  const Tensor y = x * x;
  y.backward(tensor(std::vector<double>{1, 0.5, -1}));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 2, -6});
  Tensor leaf = tensor(std::vector<double>{1, 1}).set_requires_grad(true);
  leaf.backward(tensor(std::vector<double>{4, 5}));  // backward on a leaf fills its own grad
  CHECK(leaf.grad().to_vector<double>() == std::vector<double>{4, 5});
}

TEST_CASE("only inputs that require grad receive one") {
  Tensor x = tensor(std::vector<double>{1, 2}).set_requires_grad(true);
  const Tensor c = tensor(std::vector<double>{5, 6});
  (x * c).sum().backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(c.grad().defined());
  CHECK_FALSE((c * c).requires_grad());
}

TEST_CASE("NoGradGuard records nothing and restores the previous mode") {
  Tensor x = ones({2}).set_requires_grad(true);
  {
    NoGradGuard guard;
    CHECK_FALSE(GradMode::is_enabled());
    const Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    {
      NoGradGuard inner;
    }
    CHECK_FALSE(GradMode::is_enabled());
  }
  CHECK(GradMode::is_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("detach cuts the history but shares the data") {
  Tensor x = tensor(std::vector<double>{1, 2}).set_requires_grad(true);
  const Tensor y = x * 2.0;
  const Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.storage() == y.storage());
  (d * x).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 4});  // d counted as a constant
}

TEST_CASE("backward frees the graph: the nodes and the tensors they saved are released") {
  Tensor x = tests::grad_input({3}, 1);
  std::weak_ptr<Storage> saved;
  Tensor loss;
  {
    const Tensor y = x.exp();  // ExpBackward saves y
    saved = y.storage();
    loss = (y * 2.0).sum();
  }
  CHECK_FALSE(saved.expired());  // the graph still holds y
  loss.backward();
  CHECK(saved.expired());
  tests::expect_error([&] { loss.backward(); }, {"backward", "second backward()"});
}

TEST_CASE("a graph that is never walked is freed with its output (saved tensors hold no history)") {
  Tensor x = tests::grad_input({3}, 2);
  std::weak_ptr<Node> node;
  std::weak_ptr<Storage> saved;
  {
    const Tensor y = x.exp().sigmoid();
    node = autograd_meta(y).grad_fn;
    saved = y.storage();
  }
  CHECK(node.expired());
  CHECK(saved.expired());
}

TEST_CASE("in-place updates are refused where the graph would miss them") {
  Tensor w = ones({2}).set_requires_grad(true);
  tests::expect_error([&] { w.add_(ones({2})); }, {"add_", "requires grad", "NoGradGuard"});
  {
    NoGradGuard guard;
    w.add_(ones({2}), -0.5);
    w.mul_(4.0);
  }
  CHECK(w.to_vector<float>() == std::vector<float>{2, 2});
  Tensor plain = zeros({2, 2});
  plain.add_(tensor(std::vector<float>{1, 2}));
  CHECK(plain.to_vector<float>() == std::vector<float>{1, 2, 1, 2});
  tests::expect_error([&] { plain.add_(ones({3, 2})); }, {"add_", "[2, 2]", "[3, 2]"});
  tests::expect_error([&] { plain.add_(ones({3, 1, 2})); }, {"add_", "broadcasts to float32[2, 2]", "[3, 1, 2]"});
}

TEST_CASE("bad uses of backward and requires_grad") {
  const Tensor c = ones({1});
  tests::expect_error([&] { c.backward(); }, {"backward", "does not require grad", "float32[1]"});
  Tensor x = ones({2}).set_requires_grad(true);
  const Tensor y = x * 2.0;
  tests::expect_error([&] { y.backward(); }, {"backward", "seed", "float32[2]"});
  tests::expect_error([&] { (x * 2.0).backward(ones({3})); }, {"backward", "seed", "float32[3]"});
  tests::expect_error([&] { zeros({2}, kInt64).set_requires_grad(true); }, {"set_requires_grad", "int64"});
  Tensor r = x * 2.0;
  tests::expect_error([&] { r.set_requires_grad(false); }, {"set_requires_grad", "leaf", "MulBackward"});
}

TEST_CASE("gradcheck: views and copies") {
  const Tensor x = tests::grad_input({2, 3, 4}, 11);
  using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
  const std::vector<std::pair<const char*, Fn>> cases = {
      {"reshape", [](const std::vector<Tensor>& in) { return in[0].reshape({4, 6}) * 2.0; }},
      {"view", [](const std::vector<Tensor>& in) { return in[0].view({6, -1}).exp(); }},
      {"flatten", [](const std::vector<Tensor>& in) { return in[0].flatten(1).sigmoid(); }},
      {"transpose", [](const std::vector<Tensor>& in) { return in[0].transpose(0, 2).exp(); }},
      {"permute", [](const std::vector<Tensor>& in) { return in[0].permute({1, 2, 0}).tanh(); }},
      {"narrow", [](const std::vector<Tensor>& in) { return in[0].narrow(2, 1, 2).exp(); }},
      {"slice step", [](const std::vector<Tensor>& in) { return in[0].slice(2, -3, 4, 2) * 3.0; }},
      {"squeeze/unsqueeze", [](const std::vector<Tensor>& in) { return in[0].unsqueeze(1).exp().squeeze(1); }},
      {"expand", [](const std::vector<Tensor>& in) { return in[0].narrow(0, 0, 1).expand({5, 3, 4}).exp(); }},
      {"contiguous", [](const std::vector<Tensor>& in) { return in[0].transpose(1, 2).contiguous().exp(); }},
      {"clone", [](const std::vector<Tensor>& in) { return in[0].clone() * in[0]; }},
      {"to float32 and back", [](const std::vector<Tensor>& in) { return in[0].to(kFloat32).to(kFloat64) * 2.0; }},
  };
  for (const auto& [name, fn] : cases) {
    INFO(name);
    if (std::string(name) == "to float32 and back") {
      // float32 in the middle: compare with a tolerance float32 rounding allows.
      const GradcheckResult r = gradcheck(fn, {x}, 1e-3, 1e-4, 1e-3);
      INFO(r.report);
      CHECK(r.ok);
    } else {
      FACET_CHECK_GRAD(fn, {x});
    }
  }
}

TEST_CASE("gradcheck catches a wrong backward") {
  // A deliberately wrong node: forward x^2, backward claiming x (instead of 2x).
  const Tensor x = tests::grad_input({3}, 4);
  const auto wrong = [](const std::vector<Tensor>& in) {
    const Tensor out = ops::binary(BinaryOp::Mul, in[0], in[0]);
    return record("WrongBackward", out, {in[0]}, [x = ops::alias(in[0])](const Tensor& g, const NeedsGrad&) {
      return std::vector<Tensor>{ops::binary(BinaryOp::Mul, g, x)};
    });
  };
  const GradcheckResult r = gradcheck(wrong, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.report.find("analytic") != std::string::npos);
  tests::expect_error([&] { gradcheck(wrong, {ones({3}).set_requires_grad(true)}); }, {"gradcheck", "float64"});
}
