#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace facet {

AutogradMeta& autograd_meta(const Tensor& t) {
  TensorImpl& impl = t.impl();
  if (!impl.autograd) impl.autograd = std::make_shared<AutogradMeta>();
  return *impl.autograd;
}

namespace {

std::shared_ptr<Node> edge_to(const Tensor& input) {
  if (!input.defined() || !input.impl().autograd) return nullptr;
  const AutogradMeta& meta = *input.impl().autograd;
  if (meta.grad_fn) return meta.grad_fn;
  if (!meta.requires_grad) return nullptr;
  auto acc = std::make_shared<Node>();
  acc->name = "AccumulateGrad";
  acc->leaf = input.impl_ptr();
  return acc;
}

}  // namespace

Tensor record(const char* name, const Tensor& out, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!GradMode::is_enabled()) return out;
  std::vector<std::shared_ptr<Node>> next;
  bool any = false;
  for (const Tensor& input : inputs) {
    next.push_back(edge_to(input));
    any = any || next.back() != nullptr;
  }
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->next = std::move(next);
  node->backward = std::move(backward);
  // A fresh handle: a raw op may return one of its inputs (contiguous() of a contiguous tensor),
  // and that input's own history must stay its own.
  Tensor result = ops::alias(out);
  AutogradMeta& meta = autograd_meta(result);
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  return result;
}

}  // namespace facet
