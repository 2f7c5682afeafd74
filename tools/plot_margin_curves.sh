#!/usr/bin/env bash
# Draws the pictures of docs/loss_heads.md from core/margin_math.h itself: builds
# tools/margin_curves.cpp (header-only math, no library), writes its data to build/, and plots
#   docs/margin_curves.png     every head's target logit / s against θ
#   docs/arcface_branches.png  ArcFace's two guards (th/mm and easy_margin) beside the unguarded cos(θ + m)
#   docs/arcface_slope.png     ArcFace's d target / d cos θ near θ = 0, facet's against the exact ratio
# Needs g++ and gnuplot with the pngcairo terminal (Debian: gnuplot-nox).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v gnuplot >/dev/null || { echo "plot_margin_curves.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p build docs
${CXX:-g++} -std=c++20 -O2 -Wall -Wextra -I. tools/margin_curves.cpp -o build/margin_curves
build/margin_curves values >build/margin_curves.dat
build/margin_curves slopes >build/margin_slopes.dat

gnuplot <<'EOF'
set terminal pngcairo size 900,560 enhanced font "DejaVu Sans,10"
set encoding utf8
data = "build/margin_curves.dat"
m = 0.5
th_deg = 180.0 - m * 180.0 / pi

# ---- 1. every head ----
set output "docs/margin_curves.png"
set multiplot layout 1,2 title "Target logit (before the scale s) against the angle θ to the own class weight" font ",12"
set xlabel "θ (degrees)"
set ylabel "target logit / s"
set xrange [0:180]
set xtics 30
set grid
set key bottom left box opaque font ",9"
set title "additive margins"
set yrange [-1.5:1.05]
plot data u 1:3 w l lw 2 lc rgb "black" t "softmax: cos θ", \
     data u 1:4 w l lw 2 lc rgb "#1f77b4" t "CosFace m=0.40", \
     data u 1:5 w l lw 2 lc rgb "#d62728" t "ArcFace m=0.50 (th/mm)", \
     data u 1:6 w l lw 2 dt 2 lc rgb "#ff7f0e" t "ArcFace m=0.50 easy\\_margin", \
     data u 1:7 w l lw 2 lc rgb "#2ca02c" t "combined (1, 0.3, 0.2)"
set title "SphereFace m=4 (multiplicative)"
set yrange [-7.3:1.1]
set ytics 1
unset ylabel
plot data u 1:3 w l lw 2 lc rgb "black" t "softmax: cos θ", \
     data u 1:8 w l lw 2 lc rgb "#9467bd" t "SphereFace λ=0", \
     data u 1:9 w l lw 2 lc rgb "#8c564b" t "SphereFace λ=5 (λ_{min})"
unset multiplot

# ---- 2. ArcFace's guards ----
reset
set terminal pngcairo size 900,560 enhanced font "DejaVu Sans,10"
set output "docs/arcface_branches.png"
set title "ArcFace m = 0.5: the unguarded cos(θ + m) turns back up past θ = π − m; the two guards" font ",12"
set xlabel "θ (degrees)"
set ylabel "target logit / s"
set xrange [60:180]
set yrange [-1.3:0.55]
set xtics 10
set grid
set key bottom left box opaque font ",9"
set arrow from th_deg, graph 0 to th_deg, graph 1 nohead dt 3 lc rgb "#d62728"
set label sprintf("θ = π − m = %.2f°\ncos θ = th = %.4f", th_deg, -cos(m)) at th_deg + 1, 0.45 left tc rgb "#d62728"
set arrow from 90, graph 0 to 90, graph 1 nohead dt 3 lc rgb "#ff7f0e"
set label sprintf("cos θ = 0: easy\\_margin switches to cos θ,\na step up of sin m = %.4f", sin(m)) at 91, 0.45 left tc rgb "#ff7f0e"
set label sprintf("past th: cos θ − mm,\nmm = m sin m = %.4f:\na step down of %.4f", m*sin(m), cos(m) + m*sin(m) - 1) \
    at 149, -1.08 right font ",9" tc rgb "#d62728"
set arrow from 149.5, -1.08 to th_deg - 0.3, -1.05 lc rgb "#d62728" lw 1
plot data u 1:3 w l lw 1.5 lc rgb "black" t "softmax: cos θ", \
     data u 1:10 w l lw 2 dt 4 lc rgb "gray40" t "cos(θ + m), no guard", \
     data u 1:5 w l lw 2.5 lc rgb "#d62728" t "ArcFace, easy\\_margin=false (th/mm)", \
     data u 1:6 w l lw 2 dt 2 lc rgb "#ff7f0e" t "ArcFace, easy\\_margin=true"

# ---- 3. ArcFace's slope near θ = 0 ----
reset
set terminal pngcairo size 900,560 enhanced font "DejaVu Sans,10"
set output "docs/arcface_slope.png"
slopes = "build/margin_slopes.dat"
set title "ArcFace m = 0.5: d target / d cos θ near θ = 0" font ",12"
set xlabel "θ (radians, log scale)"
set ylabel "d target / d cos θ (log scale)"
set logscale xy
set format x "10^{%L}"
set format y "10^{%L}"
set xrange [1e-6:1.6]
set grid
set key top right box opaque font ",9"
f32 = acos(1.0 - 2.0**-24)
set arrow from f32, graph 0 to f32, graph 1 nohead dt 3 lc rgb "#1f77b4"
set label sprintf("smallest θ of a float32 cos < 1:\n%.2e rad", f32) at f32 * 1.3, 2 left tc rgb "#1f77b4"
set arrow from 1e-4, graph 0 to 1e-4, graph 1 nohead dt 3 lc rgb "#d62728"
set label "sin θ floored\nat 10^{-4}" at 0.8e-4, 2 right tc rgb "#d62728"
plot slopes u 1:5 w l lw 2 dt 2 lc rgb "gray40" t "exact sin(θ + m) / sin θ (→ ∞ as θ → 0)", \
     slopes u 1:4 w l lw 2.5 lc rgb "#d62728" t sprintf("facet: at most cos m + 10^4 sin m = %.1f", cos(m) + 1e4 * sin(m))
EOF
echo "wrote docs/margin_curves.png docs/arcface_branches.png docs/arcface_slope.png"
