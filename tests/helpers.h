#pragma once
// Shared test helpers: float64 references, relative error, and checks that a call raises a
// facet::Error whose message names what went wrong.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "facet.h"

namespace facet::tests {

// ||out - ref|| / ||ref|| (or ||out|| when ref is all zero).
inline double rel_error(const std::vector<double>& out, const std::vector<double>& ref) {
  REQUIRE(out.size() == ref.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    diff += (out[i] - ref[i]) * (out[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  if (norm == 0) return std::sqrt(diff);
  return std::sqrt(diff / norm);
}

inline double rel_error(const Tensor& out, const std::vector<double>& ref) {
  return rel_error(out.to_vector<double>(), ref);
}

// Runs fn, which must throw facet::Error whose message contains every fragment.
template <class F>
void expect_error(F&& fn, const std::vector<std::string>& fragments) {
  bool thrown = false;
  try {
    fn();
  } catch (const Error& e) {
    thrown = true;
    const std::string msg = e.what();
    for (const std::string& f : fragments) {
      INFO("message: " << msg);
      CHECK_MESSAGE(msg.find(f) != std::string::npos, "missing '" << f << "'");
    }
  }
  CHECK_MESSAGE(thrown, "expected a facet::Error");
}

// A fresh folder for one test, removed with it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "facet-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  size_t entries() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator()));
  }
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Float64 random inputs that require grad, for gradchecks.
inline Tensor grad_input(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator gen(seed);
  Tensor t = uniform(shape, lo, hi, kFloat64, &gen);
  t.set_requires_grad(true);
  return t;
}

// gradcheck with the default tolerances, reported through doctest (the report says which
// Jacobian entries differ).
inline void check_grad(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs) {
  const GradcheckResult r = gradcheck(fn, inputs);
  INFO(r.report);
  CHECK(r.ok);
}

// Variadic, so lambdas with commas and braced input lists pass through unharmed.
#define FACET_CHECK_GRAD(...) ::facet::tests::check_grad(__VA_ARGS__)

}  // namespace facet::tests
