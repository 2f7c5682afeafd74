// Full-Jacobian gradient check. Analytic rows come from one backward per output element with a
// one-hot seed; numeric columns from (f(x + eps e_i) - f(x - eps e_i)) / 2 eps per input element.
#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/factory.h"
#include "core/ops.h"

namespace facet {

namespace {

std::vector<double> evaluate(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                             const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  return fn(inputs).to_vector<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  GradcheckResult result;
  // Fresh contiguous leaves, so perturbing them never touches the caller's tensors.
  std::vector<Tensor> leaves;
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    if (!in.defined()) {
      leaves.push_back(in);
      continue;
    }
    FACET_CHECK(in.device().is_cpu() && (in.dtype() == kFloat64 || !in.requires_grad()), "gradcheck",
                "float64 CPU tensors for the inputs that require grad", "input " + std::to_string(i) + ": " + in.describe());
    Tensor leaf = ops::clone(in);
    if (in.requires_grad()) leaf.set_requires_grad(true);
    any = any || in.requires_grad();
    leaves.push_back(leaf);
  }
  FACET_CHECK(any, "gradcheck", "at least one input that requires grad", "none");

  const Tensor out = fn(leaves);
  FACET_CHECK(out.defined() && out.dtype() == kFloat64, "gradcheck", "a float64 output", out.describe());
  if (!out.requires_grad()) {
    result.report = "the output does not require grad: no graph was recorded";
    return result;
  }
  const int64_t n_out = out.numel();

  // analytic[i][e * n_out + j] = d out_j / d input_i[e]
  std::vector<std::vector<double>> analytic(leaves.size());
  for (int64_t j = 0; j < n_out; ++j) {
    for (Tensor& leaf : leaves)
      if (leaf.defined()) leaf.zero_grad();
    const Tensor y = j + 1 < n_out ? fn(leaves) : out;  // the graph is freed by each backward
    Tensor seed = zeros(out.shape(), kFloat64);
    static_cast<double*>(seed.raw_data())[j] = 1.0;
    y.backward(seed);
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (!leaves[i].defined() || !leaves[i].requires_grad()) continue;
      const int64_t n_in = leaves[i].numel();
      analytic[i].resize(n_in * n_out, 0.0);
      const Tensor g = leaves[i].grad();
      if (!g.defined()) continue;  // no path from this input: the row is zero
      const std::vector<double> gv = g.to_vector<double>();
      for (int64_t e = 0; e < n_in; ++e) analytic[i][e * n_out + j] = gv[e];
    }
  }

  std::ostringstream report;
  int mismatches = 0;
  result.ok = true;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].defined() || !leaves[i].requires_grad()) continue;
    double* x = static_cast<double*>(leaves[i].raw_data());
    for (int64_t e = 0; e < leaves[i].numel(); ++e) {
      const double saved = x[e];
      x[e] = saved + eps;
      const std::vector<double> plus = evaluate(fn, leaves);
      x[e] = saved - eps;
      const std::vector<double> minus = evaluate(fn, leaves);
      x[e] = saved;
      for (int64_t j = 0; j < n_out; ++j) {
        const double numeric = (plus[j] - minus[j]) / (2 * eps);
        const double a = analytic[i][e * n_out + j];
        const double err = std::fabs(a - numeric);
        if (!(err <= atol + rtol * std::fabs(numeric))) {  // also fails on NaN
          result.ok = false;
          if (mismatches++ < 5)
            report << "input " << i << " element " << e << ", output " << j << ": analytic " << a << ", numeric "
                   << numeric << "\n";
        }
        if (std::isnan(err)) result.max_abs_error = NAN;
        else if (err > result.max_abs_error) result.max_abs_error = err;
      }
    }
  }
  if (!result.ok) report << mismatches << " Jacobian entries differ\n";
  result.report = report.str();
  return result;
}

}  // namespace facet
