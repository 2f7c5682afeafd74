#pragma once
// Per-element math of the margin heads, shared by both backends: the target logit each head puts
// in place of cos θ at a sample's own class (before the scale s), and its derivative with respect
// to cos θ. Only the B target entries of a [B, C] logit matrix go through it, so it runs in double
// on both backends at no measurable cost. docs/loss_heads.md has the formulas and pictures.
//
// The derivative near θ = 0 and θ = π. ArcFace's phi = cos(θ + m) has dphi/dcos = sin(θ + m) / sin θ,
// which grows like sin m / θ as θ -> 0 (and like 1/(π - θ) at π). We evaluate it exactly as
//   cos m + sin m · cos θ / max(sin θ, kSineFloor)
// with kSineFloor = 1e-4. No float32 cos other than ±1 has sin θ below 3.4e-4 (the float next to 1
// is 1 - 2^-24, where sin θ = sqrt(2^-23)), so for float32 inputs the derivative is exact wherever
// it is finite, and at cos = ±1 it is bounded by cos m + 1e4 · sin m. (The reference PyTorch code,
// differentiating sqrt(1 - cos²), returns inf, then NaN.) The loss stays finite either way: the
// gradient reaching a feature is this slope times dcos/dx, whose length is sin θ / |x|.
#include "core/hd.h"
#include "core/hd_math.h"

namespace facet {

enum class MarginKind : int {
  None,      // plain softmax cross-entropy: the target logit is cos (or any logit) itself
  CosFace,   // cos θ - m
  ArcFace,   // cos(θ + m), with the reference code's easy_margin or th/mm fallback
  Combined,  // cos(m1 θ + m2) - m3, all three margins at once
  Sphere,    // SphereFace: cos + (psi(θ) - cos) / (1 + lambda), psi(θ) = (-1)^k cos(m θ) - 2k
};

constexpr double kSineFloor = 1e-4;
constexpr double kPi = 3.14159265358979323846;

// Trivially copyable: CUDA kernels take it by value. Build it with the functions below, which
// precompute the constants the reference code precomputes.
struct MarginSpec {
  MarginKind kind = MarginKind::None;
  double scale = 1.0;         // s: every logit is multiplied by it
  double m1 = 1.0, m2 = 0.0, m3 = 0.0;  // multiplicative, additive angular and additive cosine margins
  bool easy_margin = false;
  double lambda = 0.0;        // SphereFace's annealing weight
  int sphere_m = 4;
  // ArcFace's constants, as the reference code names them.
  double cos_m = 1.0, sin_m = 0.0, th = -1.0, mm = 0.0;
};

inline MarginSpec margin_none(double scale = 1.0) {
  MarginSpec p;
  p.scale = scale;
  return p;
}

inline MarginSpec margin_cosface(double s, double m) {
  MarginSpec p;
  p.kind = MarginKind::CosFace;
  p.scale = s;
  p.m3 = m;
  return p;
}

inline MarginSpec margin_arcface(double s, double m, bool easy_margin) {
  MarginSpec p;
  p.kind = MarginKind::ArcFace;
  p.scale = s;
  p.m2 = m;
  p.easy_margin = easy_margin;
  p.cos_m = ::cos(m);
  p.sin_m = ::sin(m);
  p.th = ::cos(kPi - m);
  p.mm = ::sin(kPi - m) * m;
  return p;
}

inline MarginSpec margin_combined(double s, double m1, double m2, double m3) {
  MarginSpec p;
  p.kind = MarginKind::Combined;
  p.scale = s;
  p.m1 = m1;
  p.m2 = m2;
  p.m3 = m3;
  p.cos_m = ::cos(m2);
  p.sin_m = ::sin(m2);
  return p;
}

inline MarginSpec margin_sphere(int m, double lambda) {
  MarginSpec p;
  p.kind = MarginKind::Sphere;
  p.sphere_m = m;
  p.lambda = lambda;
  return p;
}

// The target logit (before the scale) and its derivative with respect to cos θ.
struct MarginTarget {
  double value;
  double slope;
};

namespace margin_detail {

FACET_HD inline double clamp_unit(double c) { return c < -1.0 ? -1.0 : (c > 1.0 ? 1.0 : c); }

FACET_HD inline double sine_of(double c) {
  const double s2 = 1.0 - c * c;
  return hd::sqrt(s2 < 0.0 ? 0.0 : (s2 > 1.0 ? 1.0 : s2));
}

FACET_HD inline double floored(double sine) { return sine < kSineFloor ? kSineFloor : sine; }

// ArcFace exactly as the reference: phi = cos·cos m - sine·sin m on the unclamped cos.
FACET_HD inline MarginTarget arcface(const MarginSpec& p, double c) {
  const double sine = sine_of(c);
  const double phi = c * p.cos_m - sine * p.sin_m;
  const double phi_slope = p.cos_m + p.sin_m * c / floored(sine);
  if (p.easy_margin) return c > 0.0 ? MarginTarget{phi, phi_slope} : MarginTarget{c, 1.0};
  return c > p.th ? MarginTarget{phi, phi_slope} : MarginTarget{c - p.mm, 1.0};
}

// cos(m1 θ + m2) - m3 while m1 θ + m2 <= π. Beyond, where cos(m1 θ + m2) would turn back up and
// reward a larger angle, the target continues as a line of slope 1 in cos θ from the value -1 - m3
// it reached at θ* = (π - m2) / m1: continuous and decreasing in θ everywhere.
// Derivative: m1 sin(m1 θ + m2) / sin θ = m1 (cos m2 · sin(m1 θ) / sin θ + sin m2 · cos(m1 θ) / sin θ);
// the first ratio is bounded (it tends to m1 as θ -> 0), the second is floored as in ArcFace.
FACET_HD inline MarginTarget combined(const MarginSpec& p, double c) {
  const double cc = clamp_unit(c);
  const double theta = ::acos(cc);
  const double angle = p.m1 * theta + p.m2;
  if (angle > kPi) {
    const double theta_star = (kPi - p.m2) / p.m1;
    return MarginTarget{-1.0 - p.m3 + (c - ::cos(theta_star)), 1.0};
  }
  const double sine = sine_of(cc);
  const double bounded_ratio = sine >= kSineFloor ? ::sin(p.m1 * theta) / sine : p.m1;
  const double slope = p.m1 * (p.cos_m * bounded_ratio + p.sin_m * ::cos(p.m1 * theta) / floored(sine));
  return MarginTarget{::cos(angle) - p.m3, slope};
}

// SphereFace as the reference PyTorch port (SphereProduct): cos(m θ) from the Chebyshev polynomial
// T_m(cos), k = floor(m θ / π) from the detached angle, psi = (-1)^k T_m(cos) - 2k, and the target
// cos + (psi - cos) / (1 + lambda). dpsi/dcos = (-1)^k T_m'(cos) = (-1)^k m U_{m-1}(cos): bounded.
FACET_HD inline MarginTarget sphere(const MarginSpec& p, double c) {
  const double cc = clamp_unit(c);
  double t_prev = 1.0, t = cc;    // T_0, T_1
  double u_prev = 0.0, u = 1.0;   // U_{-1}, U_0
  for (int n = 1; n < p.sphere_m; ++n) {
    const double t_next = 2.0 * cc * t - t_prev;
    const double u_next = 2.0 * cc * u - u_prev;
    t_prev = t;
    t = t_next;
    u_prev = u;
    u = u_next;
  }
  const double k = ::floor(p.sphere_m * ::acos(cc) / kPi);
  const double sign = ::fmod(k, 2.0) == 0.0 ? 1.0 : -1.0;
  const double psi = sign * t - 2.0 * k;
  const double psi_slope = sign * p.sphere_m * u;
  // cos clamped to [-1, 1] as the reference does, whose clamp passes no gradient outside.
  const double inside = (c >= -1.0 && c <= 1.0) ? 1.0 : 0.0;
  const double w = 1.0 / (1.0 + p.lambda);
  return MarginTarget{cc + (psi - cc) * w, inside * (1.0 + (psi_slope - 1.0) * w)};
}

}  // namespace margin_detail

FACET_HD inline MarginTarget margin_target(const MarginSpec& p, double c) {
  switch (p.kind) {
    case MarginKind::CosFace: return MarginTarget{c - p.m3, 1.0};
    case MarginKind::ArcFace: return margin_detail::arcface(p, c);
    case MarginKind::Combined: return margin_detail::combined(p, c);
    case MarginKind::Sphere: return margin_detail::sphere(p, c);
    case MarginKind::None: break;
  }
  return MarginTarget{c, 1.0};
}

// ---- softmax cross-entropy over the margin logits, per row ----
// Row i of x [B, C] with label y: logits z_j = s·x_j for j != y, z_y = s·target(x_y). With label
// smoothing e (PyTorch's definition), the loss of the row is
//   lse - (1 - e) z_y - (e / C) sum_j z_j,   lse = log sum_j exp(z_j),
// and its derivative, for a row gradient g and p_j = exp(z_j - lse),
//   dL/dx_j = g·s·(p_j - e / C - (1 - e)[j = y]) · (slope of the target at j = y, else 1).

FACET_HD inline double margin_logit(const MarginSpec& p, double x, bool is_target) {
  return p.scale * (is_target ? margin_target(p, x).value : x);
}

FACET_HD inline double margin_row_loss(double lse, double target_logit, double logit_sum, double smoothing, double classes) {
  return lse - (1.0 - smoothing) * target_logit - smoothing / classes * logit_sum;
}

FACET_HD inline double margin_ce_grad(const MarginSpec& p, double x, bool is_target, double lse, double row_grad,
                                      double smoothing, double classes) {
  if (!is_target) return row_grad * p.scale * (hd::exp(p.scale * x - lse) - smoothing / classes);
  const MarginTarget t = margin_target(p, x);
  const double prob = hd::exp(p.scale * t.value - lse);
  return row_grad * p.scale * (prob - smoothing / classes - (1.0 - smoothing)) * t.slope;
}

}  // namespace facet
