// The backward engine: walks the graph from the output in reverse topological order (a node
// runs once all the gradients flowing into it have been summed), accumulates into the leaves'
// .grad, and frees every node it ran.
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

namespace {

void accumulate_into_leaf(const std::shared_ptr<TensorImpl>& leaf_impl, const Tensor& grad) {
  const Tensor leaf(leaf_impl);
  AutogradMeta& meta = autograd_meta(leaf);
  FACET_CHECK(grad.shape() == leaf.shape() && grad.dtype() == leaf.dtype(), "backward",
              "a gradient matching its leaf " + leaf.describe(), grad.describe());
  // A clone, never the incoming tensor: it may alias another leaf's gradient or a saved tensor.
  meta.grad = meta.grad.defined() ? ops::binary(BinaryOp::Add, meta.grad, grad) : ops::clone(grad);
}

void release(Node& node) {
  node.backward = nullptr;
  node.next.clear();
  node.leaf.reset();
  node.released = true;
}

void run_backward(const Tensor& root, const Tensor& seed) {
  NoGradGuard no_grad;  // gradients are computed with raw ops and record nothing
  const AutogradMeta& root_meta = autograd_meta(root);
  if (!root_meta.grad_fn) {
    accumulate_into_leaf(root.impl_ptr(), seed);
    return;
  }
  const std::shared_ptr<Node> start = root_meta.grad_fn;

  // How many edges point at each node: a node is ready when all of them have delivered.
  std::unordered_map<Node*, int> pending_edges;
  std::unordered_set<Node*> seen{start.get()};
  std::vector<Node*> stack{start.get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    FACET_CHECK(!node->released, "backward",
                "a graph that has not been freed yet (each backward() frees the graph it walks)",
                "a second backward() through " + node->name);
    for (const auto& child : node->next) {
      if (!child) continue;
      ++pending_edges[child.get()];
      if (seen.insert(child.get()).second) stack.push_back(child.get());
    }
  }

  std::unordered_map<Node*, Tensor> grads{{start.get(), seed}};
  std::deque<std::shared_ptr<Node>> ready{start};
  while (!ready.empty()) {
    const std::shared_ptr<Node> node = ready.front();
    ready.pop_front();
    const auto it = grads.find(node.get());
    const Tensor grad = it == grads.end() ? Tensor() : it->second;
    if (it != grads.end()) grads.erase(it);

    if (node->leaf) {
      if (grad.defined()) accumulate_into_leaf(node->leaf, grad);
      release(*node);
      continue;
    }
    std::vector<Tensor> input_grads;
    if (grad.defined()) {
      NeedsGrad needs;
      for (const auto& child : node->next) needs.push_back(child != nullptr);
      input_grads = node->backward(grad, needs);
      FACET_CHECK(input_grads.size() == node->next.size(), "backward",
                  std::to_string(node->next.size()) + " gradients from " + node->name,
                  std::to_string(input_grads.size()));
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      const std::shared_ptr<Node>& child = node->next[i];
      if (!child) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        Tensor& slot = grads[child.get()];
        slot = slot.defined() ? ops::binary(BinaryOp::Add, slot, input_grads[i]) : input_grads[i];
      }
      if (--pending_edges[child.get()] == 0) ready.push_back(child);
    }
    release(*node);
  }
}

}  // namespace

bool Tensor::requires_grad() const { return impl().autograd && impl().autograd->requires_grad; }

Tensor& Tensor::set_requires_grad(bool enabled) {
  FACET_CHECK(!enabled || is_floating(dtype()), "set_requires_grad", "a float32 or float64 tensor", describe());
  FACET_CHECK(is_leaf(), "set_requires_grad",
              "a leaf tensor (a result's requires_grad follows its inputs; use detach() for a new leaf)",
              "a result of " + grad_fn_name());
  autograd_meta(*this).requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const { return !impl().autograd || !impl().autograd->grad_fn; }

Tensor Tensor::grad() const { return impl().autograd ? impl().autograd->grad : Tensor(); }

void Tensor::zero_grad() {
  if (impl().autograd) impl().autograd->grad = Tensor();
}

std::string Tensor::grad_fn_name() const {
  return impl().autograd && impl().autograd->grad_fn ? impl().autograd->grad_fn->name : "";
}

Tensor Tensor::detach() const { return ops::alias(*this); }

void Tensor::backward(const Tensor& seed) const {
  FACET_CHECK(requires_grad(), "backward",
              "a tensor that requires grad (computed from a leaf with set_requires_grad(true))",
              describe() + " that does not require grad");
  Tensor g = seed;
  if (!g.defined()) {
    FACET_CHECK(numel() == 1, "backward", "a one-element output, or a seed gradient for a non-scalar output",
                describe() + " without a seed");
    g = ones(shape(), dtype(), device());
  } else {
    FACET_CHECK(seed.shape() == shape() && seed.dtype() == dtype() && seed.device() == device(), "backward",
                "a seed of the output's shape, dtype and device " + describe(), seed.describe());
  }
  run_backward(*this, g);
}

}  // namespace facet
