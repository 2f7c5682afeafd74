#include "core/elementwise_math.h"

namespace facet {

const char* unary_op_name(UnaryOp op) {
  switch (op) {
#define FACET_NAME(name, str) case UnaryOp::name: return str;
    FACET_UNARY_OPS(FACET_NAME)
#undef FACET_NAME
  }
  return "?";
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
#define FACET_NAME(name, str) case BinaryOp::name: return str;
    FACET_BINARY_OPS(FACET_NAME)
#undef FACET_NAME
  }
  return "?";
}

}  // namespace facet
