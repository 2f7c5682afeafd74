#include "core/deferred_checks.h"

#include <algorithm>

namespace facet {

Error index_range_error(const std::string& op, const std::string& expected, int64_t value, int64_t position,
                        const std::string& tensor) {
  return Error(op, expected,
               "value " + std::to_string(value) + " at position " + std::to_string(position) + " of " + tensor);
}

uint64_t DeferredChecks::add(Check check) {
  pending_.push_back(std::move(check));
  return end() - 1;
}

std::optional<Error> DeferredChecks::settle(uint64_t done, const std::function<IndexVerdict(uint64_t)>& verdict) {
  done = std::clamp(done, first_, end());
  std::optional<Error> error;
  for (uint64_t s = first_; s < done && !error; ++s) {
    const IndexVerdict v = verdict(s);
    if (v.position >= 0) {
      const Check& c = pending_[s - first_];
      error = index_range_error(c.op, c.expected, v.value, v.position, c.tensor);
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done - first_));
  first_ = done;
  return error;
}

}  // namespace facet
