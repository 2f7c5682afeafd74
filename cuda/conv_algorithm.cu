// The switch between the GPU convolution algorithms (cuda/runtime.h): one process-wide setting,
// taken from FACET_CONV_ALGO at the first use when the program set none.
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "core/error.h"
#include "cuda/runtime.h"

namespace facet::cuda {

namespace {

#if FACET_WITH_CUDNN
constexpr bool kWithCudnn = true;
#else
constexpr bool kWithCudnn = false;
#endif
constexpr ConvAlgorithm kDefault = kWithCudnn ? ConvAlgorithm::Cudnn : ConvAlgorithm::Im2colGemm;

std::atomic<ConvAlgorithm> chosen{kDefault};
std::once_flag from_environment;

void check_available(ConvAlgorithm algorithm, const char* where) {
  FACET_CHECK(algorithm != ConvAlgorithm::Cudnn || built_with_cudnn(), where,
              "a build with cuDNN for the cudnn convolution algorithm (rebuild with make USE_CUDNN=1)",
              "a build without cuDNN");
}

// A bad FACET_CONV_ALGO is an error at the first convolution, not a silent default.
void read_environment() {
  std::call_once(from_environment, [] {
    const char* name = std::getenv("FACET_CONV_ALGO");
    if (name == nullptr || *name == '\0') return;
    ConvAlgorithm algorithm;
    FACET_CHECK(parse_conv_algorithm(name, algorithm), "FACET_CONV_ALGO",
                "one of im2col_gemm, implicit_gemm, cudnn", std::string("'") + name + "'");
    check_available(algorithm, "FACET_CONV_ALGO");
    chosen = algorithm;
  });
}

}  // namespace

bool built_with_cudnn() { return kWithCudnn; }

void set_conv_algorithm(ConvAlgorithm algorithm) {
  check_available(algorithm, "facet::cuda::set_conv_algorithm");
  std::call_once(from_environment, [] {});  // the program's choice wins over FACET_CONV_ALGO
  chosen = algorithm;
}

ConvAlgorithm conv_algorithm() {
  read_environment();
  return chosen;
}

}  // namespace facet::cuda
