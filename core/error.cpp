#include "core/error.h"

namespace facet {

Error::Error(std::string op, std::string expected, std::string given)
    : std::runtime_error("facet::" + op + ": expected " + expected + ", got " + given),
      op_(std::move(op)),
      expected_(std::move(expected)),
      given_(std::move(given)) {}

}  // namespace facet
