// The example's --margin: which numbers each head takes, that they reach the head's layer, that a
// margin that does not fit the head is a facet::Error naming --margin, and that a run's
// config.txt keeps it for --resume and verify.
#include <sstream>

#include "examples/fashion_mnist/heads.h"
#include "examples/fashion_mnist/options.h"
#include "tests/helpers.h"

using namespace facet;

namespace {

std::string printed(const std::string& head, const std::string& margin) {
  std::ostringstream os;
  os << *example::make_head(head, 8, 10, margin);
  return os.str();
}

}  // namespace

TEST_SUITE("example") {
  TEST_CASE("--margin replaces each margin head's own, and the defaults stay without it") {
    CHECK(printed("cosface", "").find("AddMarginProduct(in_features=8, out_features=10, s=30, m=0.4)") != std::string::npos);
    CHECK(printed("cosface", "0.1").find("s=30, m=0.1)") != std::string::npos);
    CHECK(printed("arcface", "").find("s=30, m=0.5,") != std::string::npos);
    CHECK(printed("arcface", "0.2").find("s=30, m=0.2,") != std::string::npos);
    CHECK(printed("subcenter", "0.25").find("k=3, s=30, m=0.25,") != std::string::npos);
    CHECK(printed("combined", "").find("m1=1, m2=0.3, m3=0.2)") != std::string::npos);
    CHECK(printed("combined", "1.5,0.1,0.05").find("m1=1.5, m2=0.1, m3=0.05)") != std::string::npos);
    CHECK(printed("sphereface", "").find("SphereProduct(in_features=8, out_features=10, m=4)") != std::string::npos);
    CHECK(printed("sphereface", "2").find("m=2)") != std::string::npos);
  }

  TEST_CASE("a --margin that does not fit the head is a facet::Error") {
    tests::expect_error([] { example::make_head("softmax", 8, 10, "0.1"); }, {"--margin", "softmax has none", "\"0.1\""});
    tests::expect_error([] { example::make_head("center", 8, 10, "0.1"); }, {"--margin", "center has none"});
    tests::expect_error([] { example::make_head("arcface", 8, 10, "0.1,0.2"); }, {"--margin", "1 number for arcface"});
    tests::expect_error([] { example::make_head("combined", 8, 10, "0.3"); }, {"--margin", "3 numbers (m1,m2,m3)"});
    for (const char* bad : {"abc", "0.2,", ",0.2", "0.2x", "1, 0.1, 0.05", "0.1,,0.2"})
      tests::expect_error([&] { example::make_head("combined", 8, 10, bad); }, {"--margin", "numbers separated by commas"});
    tests::expect_error([] { example::make_head("sphereface", 8, 10, "2.5"); }, {"--margin", "a whole number for sphereface"});
    tests::expect_error([] { example::make_head("sphereface", 8, 10, "1e30"); }, {"--margin", "a whole number"});
    // In range for the layer is the layer's own check.
    tests::expect_error([] { example::make_head("sphereface", 8, 10, "7"); }, {"SphereProduct", "1..5"});
    tests::expect_error([] { example::make_head("arcface", 8, 10, "4"); }, {"ArcMarginProduct", "[0, pi)"});
    tests::expect_error([] { example::make_head("cosine", 8, 10, ""); }, {"--head", "\"cosine\""});
  }

  TEST_CASE("config.txt keeps --margin, and has no margin line without it") {
    tests::TempDir dir;
    example::Options o;
    o.head = "combined";
    o.margin = "1,0.1,0.05";
    example::save_config(o, dir.file("config.txt"));
    CHECK(example::load_config(dir.file("config.txt")).margin == "1,0.1,0.05");
    o.margin.clear();
    example::save_config(o, dir.file("config.txt"));
    CHECK(tests::read_bytes(dir.file("config.txt")).find("margin") == std::string::npos);
    CHECK(example::load_config(dir.file("config.txt")).margin.empty());
  }

  TEST_CASE("--erase reaches config.txt, and a run without it (or from before it) reads back 0") {
    const char* argv[] = {"train", "--erase", "0.5"};
    example::Options o = example::parse_train_options(3, const_cast<char**>(argv));
    CHECK(o.erase == 0.5);
    tests::TempDir dir;
    example::save_config(o, dir.file("config.txt"));
    CHECK(example::load_config(dir.file("config.txt")).erase == 0.5);
    o.erase = 0;
    example::save_config(o, dir.file("config.txt"));
    CHECK(tests::read_bytes(dir.file("config.txt")).find("erase") == std::string::npos);
    CHECK(example::load_config(dir.file("config.txt")).erase == 0);
  }

  TEST_CASE("config.txt keeps --lr and --erase to the last bit, so --resume accepts the same flags") {
    const char* argv[] = {"train", "--lr", "0.0123456789012345", "--erase", "0.123456789012345"};
    const example::Options o = example::parse_train_options(5, const_cast<char**>(argv));
    tests::TempDir dir;
    example::save_config(o, dir.file("config.txt"));
    const example::Options back = example::load_config(dir.file("config.txt"));
    CHECK(back.lr == o.lr);
    CHECK(back.erase == o.erase);
    CHECK(tests::read_bytes(dir.file("config.txt")).find("lr 0.0123456789012345\n") != std::string::npos);
  }
}
