// The target logit of each margin head against the angle θ between a feature and its class
// weight, straight from core/margin_math.h (the code both backends run), as gnuplot data for
// docs/loss_heads.md. tools/plot_margin_curves.sh builds it and draws the pictures.
//
//   margin_curves [values]   361 rows, θ = 0..180° in steps of 0.5°: margin_target(spec, cos θ).value
//                            for each head (the logit before the scale s; SphereFace's before |x|)
//   margin_curves slopes     log-spaced θ from 1e-6 rad to π/2: ArcFace's d target / d cos as facet
//                            computes it, beside the exact sin(θ + m) / sin θ
//
// Build: g++ -std=c++20 -O2 -I. tools/margin_curves.cpp -o build/margin_curves
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/margin_math.h"

namespace {

using facet::kPi;
using facet::margin_target;

constexpr double kArcM = 0.50;

void print_values() {
  const facet::MarginSpec softmax = facet::margin_none(1.0);
  const facet::MarginSpec cosface = facet::margin_cosface(1.0, 0.40);
  const facet::MarginSpec arcface = facet::margin_arcface(1.0, kArcM, false);
  const facet::MarginSpec arcface_easy = facet::margin_arcface(1.0, kArcM, true);
  const facet::MarginSpec combined = facet::margin_combined(1.0, 1.0, 0.3, 0.2);
  const facet::MarginSpec sphere0 = facet::margin_sphere(4, 0.0);
  const facet::MarginSpec sphere5 = facet::margin_sphere(4, 5.0);
  std::printf("# target logit / s against the angle θ to the class weight (core/margin_math.h)\n");
  std::printf("# ArcFace m = %.2f: th = cos(pi - m) = %.6f (θ = %.4f deg), mm = sin(pi - m) m = %.6f\n", kArcM,
              arcface.th, (kPi - kArcM) * 180.0 / kPi, arcface.mm);
  std::printf("# cols: 1 deg  2 rad  3 softmax cos  4 CosFace m=0.40  5 ArcFace m=0.50 (th/mm)\n");
  std::printf("#       6 ArcFace m=0.50 easy_margin  7 combined (1, 0.3, 0.2)  8 SphereFace m=4 lambda=0\n");
  std::printf("#       9 SphereFace m=4 lambda=5  10 cos(θ + 0.50) with no guard (for comparison)\n");
  const int steps = 360;
  for (int i = 0; i <= steps; ++i) {
    const double deg = 180.0 * i / steps;
    // The last row is exactly π, so acos(cos θ) lands on kPi as it does for a feature opposite its weight.
    const double rad = i == steps ? kPi : kPi * i / steps;
    const double c = i == steps ? -1.0 : std::cos(rad);
    std::printf("%6.1f %.6f % .8f % .8f % .8f % .8f % .8f % .8f % .8f % .8f\n", deg, rad,
                margin_target(softmax, c).value, margin_target(cosface, c).value, margin_target(arcface, c).value,
                margin_target(arcface_easy, c).value, margin_target(combined, c).value,
                margin_target(sphere0, c).value, margin_target(sphere5, c).value, std::cos(rad + kArcM));
  }
}

void print_slopes() {
  const facet::MarginSpec arcface = facet::margin_arcface(1.0, kArcM, false);
  std::printf("# ArcFace m = %.2f: d target / d cos θ near θ = 0, facet's against the exact sin(θ + m) / sin θ\n", kArcM);
  std::printf("# facet floors sin θ at kSineFloor = %g: at cos = 1 the slope is cos m + sin m / %g = %.4f\n",
              facet::kSineFloor, facet::kSineFloor, arcface.cos_m + arcface.sin_m / facet::kSineFloor);
  std::printf("# the smallest θ of a float32 cos below 1: acos(1 - 2^-24) = %.6e rad\n", std::acos(1.0 - std::ldexp(1.0, -24)));
  std::printf("# cols: 1 θ rad  2 θ deg  3 cos θ  4 facet slope  5 exact sin(θ + m) / sin θ\n");
  const int steps = 400;
  const double lo = -6.0, hi = std::log10(kPi / 2);
  for (int i = 0; i <= steps; ++i) {
    const double rad = std::pow(10.0, lo + (hi - lo) * i / steps);
    const double c = std::cos(rad);
    std::printf("%.6e %.6e %.17f %.6f %.6f\n", rad, rad * 180.0 / kPi, c, margin_target(arcface, c).slope,
                std::sin(rad + kArcM) / std::sin(rad));
  }
  // θ = 0 exactly (cos = 1), where facet's floor applies and the exact ratio is infinite.
  std::printf("# θ = 0: facet slope %.6f\n", margin_target(arcface, 1.0).slope);
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "values";
  if (std::strcmp(mode, "values") == 0) {
    print_values();
  } else if (std::strcmp(mode, "slopes") == 0) {
    print_slopes();
  } else {
    std::fprintf(stderr, "usage: %s [values|slopes]\n", argv[0]);
    return 2;
  }
  return 0;
}
