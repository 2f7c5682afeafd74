// nn::Module and the first layers: registration and state-dict names, train/eval, moving and
// converting in place, printing, Linear's initialization and gradients, Sequential.
#include <cmath>
#include <sstream>

#include "tests/helpers.h"

using namespace facet;

namespace {

struct NetImpl : nn::Module {
  nn::Sequential body{nullptr};
  nn::Linear head{nullptr};
  Tensor scale;
  NetImpl() : nn::Module("Net") {
    body = register_module("body", nn::Sequential(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 3)));
    head = register_module("head", nn::Linear(nn::LinearOptions(3, 2).bias(false)));
    scale = register_parameter("scale", ones({2}));
    register_buffer("steps", zeros({1}, kInt64));
  }
  Tensor forward(const Tensor& x) const { return head(body(x)) * scale; }
};
FACET_MODULE(Net);

}  // namespace

TEST_CASE("names follow PyTorch's state dict, in registration order") {
  Net net;
  std::vector<std::string> names;
  for (const auto& [name, t] : net->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                                          "head.weight"});
  CHECK(net->parameters().size() == 6);
  CHECK(net->parameters(false).size() == 1);
  CHECK(net->named_buffers().size() == 1);
  CHECK(net->named_buffers()[0].first == "steps");
  CHECK(net->children().size() == 2);
  for (const Tensor& p : net->parameters()) {
    CHECK(p.requires_grad());
    CHECK(p.is_leaf());
  }
  CHECK_FALSE(net->named_buffers()[0].second.requires_grad());
  // The handles the module keeps are the registered tensors themselves.
  CHECK(net->head->weight.impl_ptr() == net->named_parameters().back().second.impl_ptr());
}

TEST_CASE("forward, backward and zero_grad through nested modules") {
  Net net;
  Generator gen(1);
  const Tensor x = randn({5, 4}, kFloat32, &gen);
  const Tensor y = net(x);
  CHECK(y.shape() == Shape{5, 2});
  y.sum().backward();
  for (const Tensor& p : net->parameters()) CHECK(p.grad().defined());
  net->zero_grad();
  for (const Tensor& p : net->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("train and eval reach every submodule") {
  Net net;
  CHECK(net->is_training());
  net->eval();
  CHECK_FALSE(net->is_training());
  CHECK_FALSE(net->body->is_training());
  CHECK_FALSE((*net->body)[2]->is_training());
  net->train();
  CHECK(net->head->is_training());
}

TEST_CASE("to(dtype) converts parameters in place: handles held elsewhere see it, int buffers stay") {
  Net net;
  const Tensor held = net->head->weight;  // e.g. an optimizer's handle
  const std::vector<float> before = held.to_vector<float>();
  net->to(kFloat64);
  CHECK(held.dtype() == kFloat64);
  CHECK(held.requires_grad());
  const std::vector<double> after = held.to_vector<double>();
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i] == static_cast<double>(before[i]));
  CHECK(net->named_buffers()[0].second.dtype() == kInt64);
  CHECK(net(ones({1, 4}, kFloat64)).dtype() == kFloat64);
  const void* data = held.raw_data();
  net->to(Device::cpu());  // the same device: nothing moves, not even a copy
  CHECK(held.raw_data() == data);
}

TEST_CASE("a module prints as a tree, as PyTorch prints it") {
  Net net;
  std::ostringstream os;
  os << *net;
  CHECK(os.str() ==
        "Net(\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=3, bias=true)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=3, out_features=3, bias=true)\n"
        "  )\n"
        "  (head): Linear(in_features=3, out_features=2, bias=false)\n"
        ")");
  std::ostringstream flat;
  flat << *nn::Flatten();
  CHECK(flat.str() == "Flatten(start_dim=1, end_dim=-1)");
}

TEST_CASE("Linear: PyTorch's default initialization bounds, and its forward is x @ W^T + b") {
  manual_seed(3);
  nn::Linear fc(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  double lo = 1, hi = -1, sum = 0;
  for (double v : fc->weight.to_vector<double>()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi - lo > 1.9 * bound);  // the whole interval is used
  CHECK(std::fabs(sum / fc->weight.numel()) < 0.05 * bound);  // centred (the mean's spread is ~0.002 bound)
  for (double v : fc->bias.to_vector<double>()) CHECK(std::fabs(v) <= bound);

  nn::Linear small(2, 1);
  {
    NoGradGuard no_grad;
    small->weight.copy_(tensor(std::vector<float>{2, -1}, {1, 2}));
    small->bias.fill_(0.5);
  }
  CHECK(small(tensor(std::vector<float>{3, 4}, {1, 2})).item<float>() == 2 * 3 - 4 + 0.5f);
}

TEST_CASE("gradcheck: Linear with and without bias, and a Sequential stack") {
  for (bool with_bias : {true, false}) {
    nn::Linear fc(nn::LinearOptions(3, 2).bias(with_bias));
    fc->to(kFloat64);
    const Tensor x = tests::grad_input({4, 3}, 7);
    std::vector<Tensor> inputs{x};
    for (const Tensor& p : fc->parameters()) inputs.push_back(p);
    // Through the module with respect to its input; with respect to the parameters through the same
    // function the module calls (gradcheck perturbs copies of its inputs, not the module's own).
    FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return fc(in[0]); }, {x});
    FACET_CHECK_GRAD(
        [&](const std::vector<Tensor>& in) { return linear(in[0], in[1], with_bias ? in[2] : Tensor()); }, inputs);
  }
  nn::Sequential seq(nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 2), nn::Sigmoid());
  seq->to(kFloat64);
  const Tensor x = tests::grad_input({2, 3}, 8);
  FACET_CHECK_GRAD([&](const std::vector<Tensor>& in) { return seq(in[0]); }, {x});
  CHECK(seq->size() == 4);
}

TEST_CASE("bad module use is a facet::Error") {
  struct Bad : nn::Module {
    Bad() : nn::Module("Bad") { register_parameter("w", ones({1})); }
  };
  Bad bad;
  tests::expect_error([&] { bad.register_parameter("w", ones({1})); }, {"register_parameter", "\"w\" a second time"});
  tests::expect_error([&] { bad.register_buffer("a.b", ones({1})); }, {"register_buffer", "without '.'"});
  tests::expect_error([&] { bad.register_parameter("u", Tensor()); }, {"register_parameter", "undefined"});
  nn::Linear empty_holder{nullptr};
  tests::expect_error([&] { empty_holder(ones({1, 2})); }, {"module", "empty holder"});
  tests::expect_error([] { nn::Linear(0, 3); }, {"Linear", "positive"});
  nn::Linear fc(3, 2);
  tests::expect_error([&] { fc(ones({4, 5})); }, {"linear", "weight.size(1) = 3", "float32[4, 5]"});
  nn::Sequential seq{nn::ReLU()};
  tests::expect_error([&] { (*seq)[1]; }, {"Sequential", "below 1"});
}

TEST_CASE("a host buffer is a buffer: listed and named in order, the same handle, one namespace") {
  struct Counter : nn::Module {
    Tensor count, mean;
    Counter() : nn::Module("Counter") {
      mean = register_buffer("mean", zeros({2}));
      count = register_host_buffer("count", zeros({1}, kInt64));
    }
  };
  Counter c;
  const auto buffers = c.named_buffers();
  REQUIRE(buffers.size() == 2);
  CHECK(buffers[0].first == "mean");
  CHECK(buffers[1].first == "count");
  CHECK(buffers[1].second.impl_ptr() == c.count.impl_ptr());
  tests::expect_error([&] { c.register_host_buffer("mean", zeros({1})); }, {"register_buffer", "\"mean\" a second time"});
  tests::expect_error([&] { c.register_host_buffer("u", Tensor()); }, {"register_buffer", "undefined"});
}

TEST_CASE("a shared submodule's parameters are listed once (tied weights), as in PyTorch") {
  struct TiedImpl : nn::Module {
    TiedImpl() : nn::Module("Tied") {
      nn::Linear shared(3, 3);
      register_module("encoder", shared);
      register_module("decoder", shared);
    }
  };
  TiedImpl tied;
  CHECK(tied.parameters().size() == 2);
  CHECK(tied.named_parameters()[0].first == "encoder.weight");
  optim::SGD opt(tied.parameters(), optim::SGDOptions(0.1));  // no "a second time"
  CHECK(opt.params(0).size() == 2);
}
