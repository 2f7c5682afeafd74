#pragma once
#include <stdexcept>
#include <string>

namespace facet {

// Every user-facing failure is a facet::Error naming the op, what it expected and what it got,
// so a message reads "facet::matmul: expected a.size(-1) == b.size(-2), got a float32[2, 3]
// and b float32[4, 5]".
class Error : public std::runtime_error {
 public:
  Error(std::string op, std::string expected, std::string given);

  const std::string& op() const { return op_; }
  const std::string& expected() const { return expected_; }
  const std::string& given() const { return given_; }

 private:
  std::string op_, expected_, given_;
};

}  // namespace facet

// The message arguments are only evaluated when the check fails.
#define FACET_CHECK(cond, op, expected, given)            \
  do {                                                    \
    if (!(cond)) throw ::facet::Error((op), (expected), (given)); \
  } while (0)
