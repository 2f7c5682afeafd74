// Front door of the random fills: reserves the Philox blocks a draw consumes, so the next draw
// starts after them, then fills a contiguous buffer and copies it into the (possibly strided) target.
#include "core/factory.h"
#include "core/ops_common.h"
#include "core/philox.h"
#include "cuda/graph.h"

namespace facet::ops {

using namespace detail;

namespace {

// Reserves the Philox blocks a draw of t.numel() elements consumes and returns the offset at
// which it starts; the fill targets a contiguous buffer (t itself when it is contiguous).
uint64_t reserve(const char* op, const Tensor& t, Generator& gen) {
  check_defined(op, t, "the target");
  check_floating(op, t);
  // The offset is host state: a graph would replay the same draw every step.
  if (cuda::is_capturing(t.device()))
    throw Error(op, "a random draw outside a CUDA graph capture (the graph would repeat the same numbers)",
                "a draw on " + t.device().str() + " while it is captured");
  const int words = t.dtype() == kFloat64 ? 2 : 1;
  return gen.reserve(philox::blocks_for(t.numel(), words));
}

Tensor contiguous_target(const Tensor& t) { return t.is_contiguous() ? t : empty(t.shape(), t.dtype(), t.device()); }

void copy_back(const Tensor& t, const Tensor& buf) {
  if (buf.storage() != t.storage()) copy_(t, buf);
}

}  // namespace

void uniform_(const Tensor& t, double lo, double hi, Generator& gen) {
  FACET_CHECK(lo <= hi, "uniform_", "lo <= hi", std::to_string(lo) + " > " + std::to_string(hi));
  const uint64_t offset = reserve("uniform_", t, gen);
  const Tensor buf = contiguous_target(t);
  FACET_DISPATCH("uniform_", t, uniform, buf, lo, hi, gen.seed(), offset);
  copy_back(t, buf);
}

void normal_(const Tensor& t, double mean, double stddev, Generator& gen) {
  FACET_CHECK(stddev >= 0, "normal_", "stddev >= 0", std::to_string(stddev));
  const uint64_t offset = reserve("normal_", t, gen);
  const Tensor buf = contiguous_target(t);
  FACET_DISPATCH("normal_", t, normal, buf, mean, stddev, gen.seed(), offset);
  copy_back(t, buf);
}

}  // namespace facet::ops
