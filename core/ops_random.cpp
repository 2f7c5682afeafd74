// Front door of the random fills: reserves the Philox blocks a draw consumes, so the next draw
// starts after them, then fills a contiguous buffer and copies it into the (possibly strided) target.
#include "core/factory.h"
#include "core/ops_common.h"
#include "core/philox.h"
#include "cpu/cpu.h"

namespace facet::ops {

using namespace detail;

namespace {

template <class Fill>
void random_fill(const char* op, const Tensor& t, Generator& gen, Fill&& fill) {
  check_defined(op, t, "the target");
  check_floating(op, t);
  const int words = t.dtype() == kFloat64 ? 2 : 1;
  const uint64_t offset = gen.reserve(philox::blocks_for(t.numel(), words));
  const Tensor buf = t.is_contiguous() ? t : empty(t.shape(), t.dtype(), t.device());
  dispatch(op, t, [&] { fill(buf, gen.seed(), offset); });
  if (buf.storage() != t.storage()) copy_(t, buf);
}

}  // namespace

void uniform_(const Tensor& t, double lo, double hi, Generator& gen) {
  FACET_CHECK(lo <= hi, "uniform_", "lo <= hi", std::to_string(lo) + " > " + std::to_string(hi));
  random_fill("uniform_", t, gen, [&](const Tensor& buf, uint64_t seed, uint64_t offset) {
    cpu::uniform(buf, lo, hi, seed, offset);
  });
}

void normal_(const Tensor& t, double mean, double stddev, Generator& gen) {
  FACET_CHECK(stddev >= 0, "normal_", "stddev >= 0", std::to_string(stddev));
  random_fill("normal_", t, gen, [&](const Tensor& buf, uint64_t seed, uint64_t offset) {
    cpu::normal(buf, mean, stddev, seed, offset);
  });
}

}  // namespace facet::ops
