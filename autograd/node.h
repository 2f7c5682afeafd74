#pragma once
// The autograd graph: each differentiable op that sees an input needing grad records a Node
// holding its backward function (with the tensors it saved) and one edge per input.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace facet {

// needs[i]: whether input i wants a gradient, so a backward can skip work nobody reads.
using NeedsGrad = std::vector<bool>;
// Returns one gradient per input (undefined where none), given the gradient of the output.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad, const NeedsGrad& needs)>;

struct Node {
  std::string name;
  // One per input: the node that made it, an accumulator for a leaf, or null (no grad wanted).
  std::vector<std::shared_ptr<Node>> next;
  BackwardFn backward;
  // Set on accumulator nodes: the leaf whose .grad receives the gradient.
  std::shared_ptr<TensorImpl> leaf;
  // backward() frees the graph it walks; a second walk is an error, not silent garbage.
  bool released = false;
};

struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
};

// The slot of a tensor, created on first use.
AutogradMeta& autograd_meta(const Tensor& t);

// Records `out` as the result of a differentiable op on `inputs`, when grad mode is on and some
// input requires grad. Saved tensors must be captured in `backward` as detached aliases (ops::alias),
// never as the graph's own tensors, or the graph would own itself and never be freed.
Tensor record(const char* name, const Tensor& out, const std::vector<Tensor>& inputs, BackwardFn backward);

}  // namespace facet
