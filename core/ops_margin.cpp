// Front door of the fused margin softmax cross-entropy and the margin target transform.
#include <cmath>
#include <string>

#include "core/factory.h"
#include "core/ops_common.h"

namespace facet::ops {

using namespace detail;

namespace {

// The backward's labels were checked by its forward: it skips reading them again.
void check_rows(const char* op, const Tensor& x, const Tensor& labels, bool check_values) {
  check_defined(op, x, "the input");
  check_floating(op, x);
  FACET_CHECK(x.dim() == 2 && x.size(1) > 0, op, "an input [batch, classes] with at least one class", x.describe());
  check_labels(op, labels, x.size(0), x.size(1), x.device(), check_values);
}

void check_smoothing(const char* op, double label_smoothing) {
  FACET_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, op, "label_smoothing in [0, 1]",
              std::to_string(label_smoothing));
}

}  // namespace

void check_labels(const char* op, const Tensor& labels, int64_t batch, int64_t num_classes, Device device,
                  bool check_values) {
  check_defined(op, labels, "the labels");
  check_dtype(op, labels, kInt64, "int64 labels");
  FACET_CHECK(labels.dim() == 1 && labels.size(0) == batch, op,
              "labels [" + std::to_string(batch) + "], one per sample", labels.describe());
  FACET_CHECK(labels.device() == device, op, "labels on " + device.str(), labels.describe());
  if (check_values) check_index_range(op, labels, num_classes, "labels");
}

void check_margin_spec(const char* op, const MarginSpec& spec) {
  const auto finite = [](double v) { return std::isfinite(v); };
  FACET_CHECK(finite(spec.scale) && spec.scale > 0, op, "a scale s > 0", "s = " + std::to_string(spec.scale));
  switch (spec.kind) {
    case MarginKind::None: break;
    case MarginKind::CosFace:
      FACET_CHECK(finite(spec.m3), op, "a finite margin m", "m = " + std::to_string(spec.m3));
      break;
    case MarginKind::ArcFace:
      FACET_CHECK(finite(spec.m2) && spec.m2 >= 0 && spec.m2 < kPi, op, "an angular margin m in [0, pi)",
                  "m = " + std::to_string(spec.m2));
      break;
    case MarginKind::Combined:
      FACET_CHECK(finite(spec.m1) && spec.m1 >= 1, op, "m1 >= 1", "m1 = " + std::to_string(spec.m1));
      FACET_CHECK(finite(spec.m2) && spec.m2 >= 0 && spec.m2 < kPi, op, "m2 in [0, pi)", "m2 = " + std::to_string(spec.m2));
      FACET_CHECK(finite(spec.m3) && spec.m3 >= 0, op, "m3 >= 0", "m3 = " + std::to_string(spec.m3));
      break;
    case MarginKind::Sphere:
      FACET_CHECK(spec.sphere_m >= 1 && spec.sphere_m <= 5, op, "a SphereFace margin m in 1..5",
                  "m = " + std::to_string(spec.sphere_m));
      FACET_CHECK(finite(spec.lambda) && spec.lambda >= 0, op, "lambda >= 0", "lambda = " + std::to_string(spec.lambda));
      break;
  }
}

std::pair<Tensor, Tensor> margin_cross_entropy(const Tensor& x, const Tensor& labels, const MarginSpec& spec,
                                               double label_smoothing) {
  const char* op = "margin_cross_entropy";
  check_rows(op, x, labels, true);
  check_smoothing(op, label_smoothing);
  check_margin_spec(op, spec);
  const Tensor xc = contiguous(x), yc = contiguous(labels);
  Tensor loss = output(op, {x.size(0)}, x.dtype(), x.device());
  Tensor lse = output(op, {x.size(0)}, kFloat64, x.device());
  FACET_DISPATCH(op, x, margin_ce_forward, xc, yc, spec, label_smoothing, loss, lse);
  return {loss, lse};
}

Tensor margin_cross_entropy_backward(const Tensor& row_grad, const Tensor& x, const Tensor& labels, const Tensor& lse,
                                     const MarginSpec& spec, double label_smoothing) {
  const char* op = "margin_cross_entropy backward";
  check_rows(op, x, labels, false);
  check_smoothing(op, label_smoothing);
  check_margin_spec(op, spec);
  check_defined(op, row_grad, "the row gradient");
  check_defined(op, lse, "the log-sum-exp");
  FACET_CHECK(row_grad.shape() == labels.shape() && lse.shape() == labels.shape(), op,
              "a row gradient and a log-sum-exp of one value per row", row_grad.describe() + " and " + lse.describe());
  check_dtype(op, lse, kFloat64, "a float64 log-sum-exp");
  check_same_device(op, x, row_grad);
  check_same_device(op, x, lse);
  const Tensor xc = contiguous(x), yc = contiguous(labels), gc = contiguous(cast(row_grad, x.dtype())),
               lc = contiguous(lse);
  Tensor grad = output(op, x.shape(), x.dtype(), x.device());
  FACET_DISPATCH(op, x, margin_ce_backward, xc, yc, lc, gc, spec, label_smoothing, grad);
  return grad;
}

Tensor margin_target(const Tensor& cos, const MarginSpec& spec, bool slope) {
  const char* op = "margin_target";
  check_defined(op, cos, "the input");
  check_floating(op, cos);
  check_margin_spec(op, spec);
  const Tensor xc = contiguous(cos);
  Tensor out = output(op, cos.shape(), cos.dtype(), cos.device());
  FACET_DISPATCH(op, cos, margin_target, xc, spec, slope, out);
  return out;
}

}  // namespace facet::ops
