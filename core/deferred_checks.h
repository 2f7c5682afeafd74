#pragma once
// Index range checks whose verdict arrives later. On the GPU a kernel checks an index tensor
// without stopping the host (cuda/index_checks.cu); the host reads the verdicts after its next
// wait on the stream (a copy to the host, synchronize) and throws then. This is the host's half,
// plain C++ so the CPU tests cover it: each check's message waits under a sequence number until a
// wait that covers it settles it. The CPU checks at once and builds the same message.
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "core/error.h"

namespace facet {

// "facet::OP: expected EXPECTED, got value V at position P of TENSOR" (P counts row-major).
Error index_range_error(const std::string& op, const std::string& expected, int64_t value, int64_t position,
                        const std::string& tensor);

// A check's verdict: the first position whose value is out of range (-1: none) and that value.
struct IndexVerdict {
  int64_t position = -1;
  int64_t value = 0;
};

class DeferredChecks {
 public:
  struct Check {
    std::string op, expected, tensor;  // the error's words, as index_range_error takes them
  };
  // Registers a check; its sequence number, which names the check's verdict.
  uint64_t add(Check check);
  // The unsettled checks are the sequence numbers [first(), end()).
  uint64_t first() const { return first_; }
  uint64_t end() const { return first_ + pending_.size(); }
  size_t size() const { return pending_.size(); }
  // Settles every check before `done` (each has run), reading each verdict with `verdict(sequence)`:
  // the error of the oldest failed one, or none. All of them are dropped either way; checks from
  // `done` on stay for a later wait.
  std::optional<Error> settle(uint64_t done, const std::function<IndexVerdict(uint64_t)>& verdict);

 private:
  std::deque<Check> pending_;
  uint64_t first_ = 0;
};

}  // namespace facet
