#pragma once
// Learning-rate schedules over epochs (or iterations: whatever step() counts). Each keeps the
// groups' initial learning rates and sets lr = lr_at(base_lr, t) at construction (t = 0) and after
// every step(), as PyTorch's schedulers do. (Each derived constructor applies t = 0 itself: a base
// constructor cannot call the derived lr_at.)
#include <cstdint>
#include <vector>

#include "optim/optimizer.h"

namespace facet::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  void step();
  int64_t last_epoch() const { return epoch_; }
  std::vector<double> get_last_lr() const;

 protected:
  // The learning rate of a group whose initial rate is base_lr, at epoch t.
  virtual double lr_at(double base_lr, int64_t t) const = 0;
  void apply();

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t epoch_ = 0;
};

// lr = base * gamma^(t / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
 protected:
  double lr_at(double base_lr, int64_t t) const override;
 private:
  int64_t step_size_;
  double gamma_;
};

// lr = base * gamma^(number of milestones <= t)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);
 protected:
  double lr_at(double base_lr, int64_t t) const override;
 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// Linear warm-up from base * warmup_start_factor to base over warmup_epochs, then cosine
// annealing to eta_min at total_epochs (and eta_min after):
//   t < W:  base * (s + (1 - s) * t / W)
//   t >= W: eta_min + (base - eta_min) * (1 + cos(pi * min(t - W, T - W) / (T - W))) / 2
class CosineWarmupLR : public LRScheduler {
 public:
  CosineWarmupLR(Optimizer& optimizer, int64_t warmup_epochs, int64_t total_epochs, double eta_min = 0.0,
                 double warmup_start_factor = 0.0);
 protected:
  double lr_at(double base_lr, int64_t t) const override;
 private:
  int64_t warmup_, total_;
  double eta_min_, start_factor_;
};

// lr = base * (1 - min(t, total_iters) / total_iters)^power, as torch.optim.lr_scheduler.PolynomialLR.
class PolynomialLR : public LRScheduler {
 public:
  PolynomialLR(Optimizer& optimizer, int64_t total_iters, double power = 1.0);
 protected:
  double lr_at(double base_lr, int64_t t) const override;
 private:
  int64_t total_iters_;
  double power_;
};

}  // namespace facet::optim
