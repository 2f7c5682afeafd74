#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace facet::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (size_t g = 0; g < optimizer.num_param_groups(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LRScheduler::apply() {
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, lr_at(base_lrs_[g], epoch_));
}

void LRScheduler::step() {
  ++epoch_;
  apply();
}

std::vector<double> LRScheduler::get_last_lr() const {
  std::vector<double> out;
  for (size_t g = 0; g < base_lrs_.size(); ++g) out.push_back(optimizer_.lr(g));
  return out;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  FACET_CHECK(step_size > 0, "StepLR", "step_size > 0", std::to_string(step_size));
  apply();
}

double StepLR::lr_at(double base_lr, int64_t t) const { return base_lr * std::pow(gamma_, static_cast<double>(t / step_size_)); }

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  FACET_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()), "MultiStepLR", "milestones in increasing order",
              "an unsorted list");
  apply();  // a milestone at 0 takes effect at once, as in PyTorch
}

double MultiStepLR::lr_at(double base_lr, int64_t t) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
  return base_lr * std::pow(gamma_, static_cast<double>(passed));
}

CosineWarmupLR::CosineWarmupLR(Optimizer& optimizer, int64_t warmup_epochs, int64_t total_epochs, double eta_min,
                               double warmup_start_factor)
    : LRScheduler(optimizer),
      warmup_(warmup_epochs),
      total_(total_epochs),
      eta_min_(eta_min),
      start_factor_(warmup_start_factor) {
  FACET_CHECK(warmup_epochs >= 0 && total_epochs > warmup_epochs, "CosineWarmupLR",
              "0 <= warmup_epochs < total_epochs", std::to_string(warmup_epochs) + " and " + std::to_string(total_epochs));
  apply();  // epoch 0 of the warm-up starts at the start factor
}

double CosineWarmupLR::lr_at(double base_lr, int64_t t) const {
  if (t < warmup_) return base_lr * (start_factor_ + (1.0 - start_factor_) * static_cast<double>(t) / warmup_);
  const double progress = static_cast<double>(std::min(t - warmup_, total_ - warmup_)) / static_cast<double>(total_ - warmup_);
  return eta_min_ + (base_lr - eta_min_) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

PolynomialLR::PolynomialLR(Optimizer& optimizer, int64_t total_iters, double power)
    : LRScheduler(optimizer), total_iters_(total_iters), power_(power) {
  FACET_CHECK(total_iters > 0, "PolynomialLR", "total_iters > 0", std::to_string(total_iters));
  apply();
}

double PolynomialLR::lr_at(double base_lr, int64_t t) const {
  const double left = 1.0 - static_cast<double>(std::min(t, total_iters_)) / static_cast<double>(total_iters_);
  return base_lr * std::pow(left, power_);
}

}  // namespace facet::optim
