// The margin heads' per-element math (core/margin_math.h), against numbers computed from the
// published definitions: each branch, the boundaries (cos exactly at th, cos = 0 with
// easy_margin), the derivative against central differences, and its bound at cos = ±1.
#include <cmath>

#include "tests/helpers.h"

using namespace facet;

namespace {

constexpr double kPiRef = 3.14159265358979323846;

// Central difference of the target value, for the derivative checks.
double numeric_slope(const MarginSpec& p, double c, double h = 1e-7) {
  return (margin_target(p, c + h).value - margin_target(p, c - h).value) / (2 * h);
}

}  // namespace

TEST_SUITE("margin math") {
  TEST_CASE("CosFace: cos - m, slope 1") {
    const MarginSpec p = margin_cosface(30, 0.4);
    CHECK(margin_target(p, 0.7).value == doctest::Approx(0.3).epsilon(1e-15));
    CHECK(margin_target(p, -1.0).value == doctest::Approx(-1.4).epsilon(1e-15));
    CHECK(margin_target(p, 0.7).slope == 1.0);
  }

  TEST_CASE("ArcFace without easy_margin: phi = cos(θ + m) above th, cos - mm at and below th") {
    const double m = 0.5;
    const MarginSpec p = margin_arcface(30, m, false);
    CHECK(p.th == doctest::Approx(-std::cos(m)).epsilon(1e-15));
    CHECK(p.mm == doctest::Approx(std::sin(m) * m).epsilon(1e-15));
    // cos = 0.6: sin θ = 0.8, phi = 0.6 cos 0.5 - 0.8 sin 0.5 = cos(acos 0.6 + 0.5).
    const MarginTarget t = margin_target(p, 0.6);
    CHECK(t.value == doctest::Approx(0.6 * 0.87758256189037276 - 0.8 * 0.47942553860420301).epsilon(1e-14));
    CHECK(t.value == doctest::Approx(std::cos(std::acos(0.6) + m)).epsilon(1e-14));
    CHECK(t.slope == doctest::Approx(std::sin(std::acos(0.6) + m) / 0.8).epsilon(1e-14));
    // Below th: the fallback cos - sin(π - m)·m, slope 1.
    const MarginTarget low = margin_target(p, -0.95);
    CHECK(low.value == doctest::Approx(-0.95 - std::sin(kPiRef - m) * m).epsilon(1e-15));
    CHECK(low.slope == 1.0);
    // Exactly at th: "cos > th" is false, so the fallback applies, as in the reference's torch.where.
    const MarginTarget at = margin_target(p, p.th);
    CHECK(at.value == doctest::Approx(p.th - p.mm).epsilon(1e-15));
    CHECK(at.slope == 1.0);
    // Just above th: phi.
    const double above = std::nextafter(p.th, 1.0);
    CHECK(margin_target(p, above).value == doctest::Approx(above * std::cos(m) - std::sqrt(1 - above * above) * std::sin(m)));
  }

  TEST_CASE("ArcFace with easy_margin: phi where cos > 0, cos itself where cos <= 0 (0 included)") {
    const MarginSpec p = margin_arcface(30, 0.5, true);
    CHECK(margin_target(p, 0.3).value == doctest::Approx(std::cos(std::acos(0.3) + 0.5)).epsilon(1e-14));
    CHECK(margin_target(p, -0.2).value == -0.2);
    CHECK(margin_target(p, -0.2).slope == 1.0);
    CHECK(margin_target(p, 0.0).value == 0.0);
    CHECK(margin_target(p, 0.0).slope == 1.0);
    // Without easy_margin, cos = -0.2 (above th) gets phi.
    CHECK(margin_target(margin_arcface(30, 0.5, false), -0.2).value ==
          doctest::Approx(std::cos(std::acos(-0.2) + 0.5)).epsilon(1e-14));
  }

  TEST_CASE("combined margin: cos(m1 θ + m2) - m3 with all three, and the linear continuation past π") {
    const MarginSpec p = margin_combined(64, 1.0, 0.3, 0.2);
    CHECK(margin_target(p, 0.5).value == doctest::Approx(std::cos(std::acos(0.5) + 0.3) - 0.2).epsilon(1e-14));
    CHECK(margin_target(p, 0.5).slope == doctest::Approx(std::sin(std::acos(0.5) + 0.3) / std::sin(std::acos(0.5))).epsilon(1e-13));
    // m2 is honoured together with m3 (InsightFace's CombinedMarginLoss would give cos - m3 here).
    CHECK(margin_target(p, 0.5).value != doctest::Approx(0.5 - 0.2));
    // θ = 3.0 > π - 0.3: the continuation -1 - m3 + (cos θ - cos θ*), θ* = π - 0.3.
    const double c = std::cos(3.0);
    CHECK(margin_target(p, c).value == doctest::Approx(-1.2 + (c - std::cos(kPiRef - 0.3))).epsilon(1e-14));
    CHECK(margin_target(p, c).slope == 1.0);
    // Continuous at θ*.
    const double c_star = std::cos(kPiRef - 0.3);
    CHECK(margin_target(p, c_star + 1e-9).value == doctest::Approx(margin_target(p, c_star - 1e-9).value).epsilon(1e-7));
    // A multiplicative margin: m1 = 2, m2 = 0, m3 = 0 at θ = 0.4 gives cos 0.8.
    const MarginSpec q = margin_combined(64, 2.0, 0.0, 0.0);
    CHECK(margin_target(q, std::cos(0.4)).value == doctest::Approx(std::cos(0.8)).epsilon(1e-13));
    CHECK(margin_target(q, std::cos(0.4)).slope == doctest::Approx(2 * std::sin(0.8) / std::sin(0.4)).epsilon(1e-12));
    // (1, 0, m) is CosFace and (1, m, 0) is ArcFace's phi.
    CHECK(margin_target(margin_combined(30, 1, 0, 0.4), 0.3).value == doctest::Approx(margin_target(margin_cosface(30, 0.4), 0.3).value));
    CHECK(margin_target(margin_combined(30, 1, 0.5, 0), 0.3).value ==
          doctest::Approx(margin_target(margin_arcface(30, 0.5, false), 0.3).value).epsilon(1e-14));
  }

  TEST_CASE("SphereFace: psi = (-1)^k cos(mθ) - 2k and the lambda blend") {
    const MarginSpec p0 = margin_sphere(4, 0.0);
    // θ = 0.3: k = floor(1.2 / π) = 0, psi = cos 1.2.
    CHECK(margin_target(p0, std::cos(0.3)).value == doctest::Approx(std::cos(1.2)).epsilon(1e-13));
    // θ = 1.0: k = floor(4 / π) = 1, psi = -cos 4 - 2.
    CHECK(margin_target(p0, std::cos(1.0)).value == doctest::Approx(-std::cos(4.0) - 2.0).epsilon(1e-13));
    // θ = 2.5: k = floor(10 / π) = 3, psi = -cos 10 - 6.
    CHECK(margin_target(p0, std::cos(2.5)).value == doctest::Approx(-std::cos(10.0) - 6.0).epsilon(1e-13));
    // lambda = 5: cos + (psi - cos) / 6.
    const MarginSpec p5 = margin_sphere(4, 5.0);
    const double c = std::cos(1.0), psi = -std::cos(4.0) - 2.0;
    CHECK(margin_target(p5, c).value == doctest::Approx(c + (psi - c) / 6.0).epsilon(1e-13));
    // dpsi/dcos = (-1)^k · 4 sin(4θ) / sin θ.
    CHECK(margin_target(p0, c).slope == doctest::Approx(-4 * std::sin(4.0) / std::sin(1.0)).epsilon(1e-12));
    // Other m: m = 2 at θ = 0.5 gives cos 1.0 (k = 0).
    CHECK(margin_target(margin_sphere(2, 0.0), std::cos(0.5)).value == doctest::Approx(std::cos(1.0)).epsilon(1e-13));
  }

  TEST_CASE("every head's derivative equals central differences inside each branch") {
    const MarginSpec specs[] = {margin_cosface(30, 0.4),        margin_arcface(30, 0.5, false),
                                margin_arcface(30, 0.5, true),  margin_combined(64, 1.0, 0.3, 0.2),
                                margin_combined(64, 1.35, 0.25, 0.1), margin_sphere(4, 0.0),
                                margin_sphere(4, 12.5),          margin_none()};
    // Points away from the branch switches (th, 0, θ*, the sphere's kπ/m).
    const double points[] = {-0.999, -0.97, -0.7, -0.31, -0.05, 0.12, 0.41, 0.66, 0.83, 0.95, 0.9995};
    for (const MarginSpec& p : specs)
      for (double c : points) {
        INFO("kind " << static_cast<int>(p.kind) << " m1 " << p.m1 << " m2 " << p.m2 << " cos " << c);
        CHECK(margin_target(p, c).slope == doctest::Approx(numeric_slope(p, c)).epsilon(1e-5));
      }
  }

  TEST_CASE("the derivative is finite and bounded at cos = ±1 and just beyond (float rounding)") {
    const MarginSpec specs[] = {margin_cosface(30, 0.4), margin_arcface(30, 0.5, false), margin_arcface(30, 0.5, true),
                                margin_combined(64, 1.0, 0.3, 0.2), margin_sphere(4, 5.0)};
    for (const MarginSpec& p : specs)
      for (double c : {-1.0000001, -1.0, 1.0, 1.0000001}) {
        const MarginTarget t = margin_target(p, c);
        INFO("kind " << static_cast<int>(p.kind) << " cos " << c);
        CHECK(std::isfinite(t.value));
        CHECK(std::isfinite(t.slope));
        CHECK(std::fabs(t.slope) <= p.cos_m + p.sin_m / kSineFloor + 64);
      }
    // ArcFace at cos = 1: the floored form cos m + sin m / 1e-4; at the float32 next to 1 the exact
    // sin(θ + m) / sin θ, since sin θ = sqrt(2^-23) is above the floor.
    const MarginSpec arc = margin_arcface(30, 0.5, false);
    CHECK(margin_target(arc, 1.0).slope == doctest::Approx(std::cos(0.5) + std::sin(0.5) * 1e4));
    const double below_one = static_cast<double>(std::nextafter(1.0f, 0.0f));
    const double theta = std::acos(below_one);
    CHECK(margin_target(arc, below_one).slope == doctest::Approx(std::sin(theta + 0.5) / std::sin(theta)).epsilon(1e-6));
  }

  TEST_CASE("margin parameters are checked") {
    tests::expect_error([] { ops::check_margin_spec("head", margin_arcface(30, -0.1, false)); }, {"head", "[0, pi)"});
    tests::expect_error([] { ops::check_margin_spec("head", margin_cosface(0, 0.4)); }, {"head", "s > 0"});
    tests::expect_error([] { ops::check_margin_spec("head", margin_combined(64, 0.5, 0.3, 0.2)); }, {"m1 >= 1"});
    tests::expect_error([] { ops::check_margin_spec("head", margin_sphere(7, 0)); }, {"1..5"});
  }
}
