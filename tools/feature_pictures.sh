#!/usr/bin/env bash
# The 2-D feature pictures: one run per head with 2-D features (4 epochs of the 60 000 training
# images), its test features plotted by class (the cosine heads' normalized onto the unit circle,
# each class on a ring of its own), copied into docs/, and a line of test accuracies for the README.
#   MODEL=cnn (default)  every head, the cnn backbone, --lr 0.1: docs/features-HEAD.png
#   MODEL=lenetpp        the Center-loss paper's LeNet++ at --lr 0.01, for softmax, center and
#                        sphereface: docs/features-lenetpp-HEAD.png. Without BatchNorm the
#                        additive-margin heads (cosface, arcface, combined, subcenter) did not
#                        train on it in 2-D (README, "The same on LeNet++").
# Ten classes share a circle at 0.63 rad each, so the margin heads get margins that fit it (their
# 128-d margins of 0.4-0.5 rad leave almost no room for the class itself): CosFace 0.1,
# ArcFace and sub-center 0.2 rad, combined (1, 0.1, 0.05); SphereFace keeps m = 4 (annealed in).
# Usage: [MODEL=lenetpp] tools/feature_pictures.sh [BUILD_DIR] [HEAD...]   (make pictures)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
model=${MODEL:-cnn}
heads=("$@")
case "$model" in
  cnn) lr=0.1 picture=features defaults=(softmax center cosface arcface sphereface combined subcenter) ;;
  lenetpp) lr=0.01 picture=features-lenetpp defaults=(softmax center sphereface) ;;
  *) echo "feature_pictures: MODEL must be cnn or lenetpp, not \"$model\"" >&2; exit 1 ;;
esac
[ ${#heads[@]} -gt 0 ] || heads=("${defaults[@]}")
declare -A margin=([cosface]=0.1 [arcface]=0.2 [subcenter]=0.2 [combined]=1,0.1,0.05)
for head in "${heads[@]}"; do
  out=runs/$picture-$head
  flags=(--model "$model" --head "$head" --feat-dim 2 --epochs 4 --lr "$lr" --quiet --out "$out")
  [ -n "${margin[$head]:-}" ] && flags+=(--margin "${margin[$head]}")
  rm -rf "$out"
  "$build/examples/train" "${flags[@]}" | grep "^test accuracy" | sed "s/^/$head: /"
  cp "$out/features.png" "docs/$picture-$head.png"
done
