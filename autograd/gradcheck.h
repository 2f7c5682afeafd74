#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace facet {

struct GradcheckResult {
  bool ok = false;
  double max_abs_error = 0;  // largest |analytic - numeric| over every Jacobian entry
  std::string report;        // the first mismatches, or why the check could not run
};

// Compares backward() with central finite differences, entry by entry of the full Jacobian
// d fn(inputs) / d input, for each input that requires grad. Inputs must be float64 CPU tensors;
// an entry passes when |analytic - numeric| <= atol + rtol * |numeric|.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
                          double rtol = 1e-3);

}  // namespace facet
