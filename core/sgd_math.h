#pragma once
// One SGD step for one element, for both backends: torch.optim.SGD's update
//   g = grad + weight_decay · p
//   buf = g on the first step, else momentum · buf + (1 - dampening) · g
//   g = nesterov ? g + momentum · buf : buf
//   p = p - lr · g
// with the coefficients rounded to T and every product and sum rounded on its own, exactly as the
// same update composed of elementwise ops rounds it (hd::mul_add keeps nvcc from fusing an FMA).
#include "core/hd.h"
#include "core/hd_math.h"

namespace facet {

struct SgdStep {
  double lr = 0, weight_decay = 0, momentum = 0, dampening = 0;
  bool nesterov = false;
  bool first = false;  // the momentum buffer is not yet set: it starts as the gradient
  // When set, the rate is read from here instead of `lr`: one float64 in the parameter's memory
  // (ops::sgd_step's `lr` tensor), so that a step captured in a CUDA graph follows the schedule.
  const double* lr_in_memory = nullptr;
};

template <class T>
struct SgdCoefficients {
  T neg_lr, weight_decay, momentum, keep;  // keep = 1 - dampening
  const double* lr_in_memory;              // replaces neg_lr when set (read where the update runs)
  bool decay, use_momentum, nesterov, first;
  explicit SgdCoefficients(const SgdStep& s)
      : neg_lr(static_cast<T>(-s.lr)),
        weight_decay(static_cast<T>(s.weight_decay)),
        momentum(static_cast<T>(s.momentum)),
        keep(static_cast<T>(1.0 - s.dampening)),
        lr_in_memory(s.lr_in_memory),
        decay(s.weight_decay != 0),
        use_momentum(s.momentum != 0),
        nesterov(s.nesterov),
        first(s.first) {}
};

// The new value of p; with momentum, *buf is read (unless first) and written (buf may be null
// without momentum).
template <class T>
FACET_HD inline T sgd_update(const SgdCoefficients<T>& c, T p, T g, T* buf) {
  if (c.decay) g = hd::mul_add(p, c.weight_decay, g);
  if (c.use_momentum) {
    const T b = c.first ? g : hd::mul_add(*buf, c.momentum, g * c.keep);
    *buf = b;
    g = c.nesterov ? hd::mul_add(b, c.momentum, g) : b;
  }
  const T neg_lr = c.lr_in_memory ? static_cast<T>(-*c.lr_in_memory) : c.neg_lr;  // rounded as neg_lr is
  return hd::mul_add(g, neg_lr, p);
}

}  // namespace facet
