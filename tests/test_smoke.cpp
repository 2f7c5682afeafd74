#include "tests/helpers.h"
TEST_CASE("smoke") { CHECK(facet::zeros({2}).numel() == 2); }
