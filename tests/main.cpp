// The test runner: doctest's own runner, with the CUDA suite filtered out (and so counted as
// skipped) where no GPU is found, and one plain closing line from doctest's counts.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "core/device.h"
#include "core/host_allocator.h"
#include "cuda/runtime.h"

namespace {

doctest::TestRunStats last_run{};

struct CountingListener : doctest::IReporter {
  explicit CountingListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { last_run = stats; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("facet-counts", 1, CountingListener);

int main(int argc, char** argv) {
  doctest::Context context;
  // Every new tensor starts as NaN bytes, on the host and on the GPU: a kernel that leaves an
  // output element unwritten fails its value test instead of passing on a lucky zero.
  facet::HostAllocator::set_poison(true);
  const int gpus = facet::cuda_device_count();
  if (gpus > 0) facet::cuda::set_poison_allocations(true);
  if (gpus == 0) context.addFilter("test-suite-exclude", "cuda");
  context.applyCommandLine(argc, argv);
  std::printf("facet tests: %s build, %d CUDA device(s)%s\n", facet::built_with_cuda() ? "CUDA" : "CPU-only", gpus,
              gpus == 0 ? ": the cuda suite is skipped" : "");
  std::fflush(stdout);  // tools/gpu_check.sh reads the device count even from a run cut short
  const int status = context.run();
  if (context.shouldExit()) return status;
  const unsigned passed = last_run.numTestCasesPassingFilters - last_run.numTestCasesFailed;
  const unsigned skipped = last_run.numTestCases - last_run.numTestCasesPassingFilters;
  std::printf("%u passed, %u failed, %u skipped\n", passed, last_run.numTestCasesFailed, skipped);
  return status;
}
