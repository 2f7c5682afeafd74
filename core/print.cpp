// A readable print in PyTorch's layout: nested brackets, aligned columns, "..." past 1000
// elements, and the dtype and device when they are not the defaults.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "core/ops.h"

namespace facet {

namespace {

constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;

std::string format_value(double v, bool integer, bool scientific) {
  char buf[64];
  if (integer) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else if (std::isnan(v)) std::snprintf(buf, sizeof buf, "nan");
  else if (std::isinf(v)) std::snprintf(buf, sizeof buf, v > 0 ? "inf" : "-inf");
  else std::snprintf(buf, sizeof buf, scientific ? "%.4e" : "%.4f", v);
  return buf;
}

struct Printer {
  const Tensor& t;
  std::vector<double> values;  // the tensor in row-major order
  bool integer, scientific, summarize;
  size_t width = 1;

  std::string cell(int64_t flat) const {
    std::string s = format_value(values[flat], integer, scientific);
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  }

  // Indices along dim d that are printed; -1 marks the "..." gap.
  std::vector<int64_t> shown(int64_t size) const {
    std::vector<int64_t> idx;
    if (summarize && size > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      idx.push_back(-1);
      for (int64_t i = size - kEdgeItems; i < size; ++i) idx.push_back(i);
    } else {
      for (int64_t i = 0; i < size; ++i) idx.push_back(i);
    }
    return idx;
  }

  void print(std::string& out, int64_t d, int64_t base, int indent) const {
    const int64_t nd = t.dim();
    const int64_t inner = numel_of(Shape(t.shape().begin() + d + 1, t.shape().end()));
    out += '[';
    const std::vector<int64_t> idx = shown(t.shape()[d]);
    for (size_t k = 0; k < idx.size(); ++k) {
      if (k) {
        out += ',';
        if (d == nd - 1) out += ' ';
        else out += std::string(static_cast<size_t>(nd - d - 1), '\n') + std::string(indent + 1, ' ');
      }
      if (idx[k] < 0) out += "...";
      else if (d == nd - 1) out += cell(base + idx[k]);
      else print(out, d + 1, base + idx[k] * inner, indent + 1);
    }
    out += ']';
  }
};

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  Printer p{t, t.to_vector<double>(), t.dtype() == kInt64, false, t.numel() > kSummarizeAbove};
  double largest = 0;
  for (double v : p.values)
    if (std::isfinite(v)) largest = std::max(largest, std::fabs(v));
  p.scientific = !p.integer && (largest >= 1e8 || (largest > 0 && largest < 1e-4));
  for (double v : p.values) p.width = std::max(p.width, format_value(v, p.integer, p.scientific).size());

  std::string body;
  if (t.dim() == 0) body = format_value(p.values[0], p.integer, p.scientific);
  else p.print(body, 0, 0, 7);
  os << "tensor(" << body;
  if (!t.device().is_cpu()) os << ", device='" << t.device().str() << "'";
  if (t.dtype() != kFloat32) os << ", dtype=" << dtype_name(t.dtype());
  if (t.numel() == 0) os << ", size=" << shape_str(t.shape());
  return os << ")";
}

}  // namespace facet
