#!/usr/bin/env bash
# The 2-D feature pictures of every head: one run each with 2-D features (the cnn backbone,
# 4 epochs of the 60 000 training images), its test features plotted by class (the cosine heads'
# normalized onto the unit circle, each class on a ring of its own), copied to
# docs/features-HEAD.png, and a line of test accuracies for the README.
# Ten classes share a circle at 0.63 rad each, so the margin heads get margins that fit it (their
# 128-d margins of 0.4-0.5 rad leave almost no room for the class itself): CosFace 0.1,
# ArcFace and sub-center 0.2 rad, combined (1, 0.1, 0.05); SphereFace keeps m = 4 (annealed in).
# Usage: tools/feature_pictures.sh [BUILD_DIR] [HEAD...]   (make pictures)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
heads=("$@")
[ ${#heads[@]} -gt 0 ] || heads=(softmax center cosface arcface sphereface combined subcenter)
declare -A margin=([cosface]=0.1 [arcface]=0.2 [subcenter]=0.2 [combined]=1,0.1,0.05)
for head in "${heads[@]}"; do
  out=runs/features-$head
  flags=(--model cnn --head "$head" --feat-dim 2 --epochs 4 --quiet --out "$out")
  [ -n "${margin[$head]:-}" ] && flags+=(--margin "${margin[$head]}")
  rm -rf "$out"
  "$build/examples/train" "${flags[@]}" | grep "^test accuracy" | sed "s/^/$head: /"
  cp "$out/features.png" "docs/features-$head.png"
done
