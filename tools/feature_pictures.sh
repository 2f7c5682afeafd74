#!/usr/bin/env bash
# The 2-D feature pictures of every head: one short run each with 2-D features (the demo's
# recipe: the cnn backbone, 2 epochs of the first 20 000 training images), its test features
# plotted by class (normalized onto the unit circle for the cosine heads), copied to
# docs/features-HEAD.png, and a line of test accuracies for the README.
# Usage: tools/feature_pictures.sh [BUILD_DIR] [HEAD...]   (make pictures)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
heads=("$@")
[ ${#heads[@]} -gt 0 ] || heads=(softmax center cosface arcface sphereface combined subcenter)
for head in "${heads[@]}"; do
  out=runs/features-$head
  "$build/examples/train" --model cnn --head "$head" --feat-dim 2 --epochs 2 --limit 20000 --quiet --out "$out" \
    | grep "^test accuracy" | sed "s/^/$head: /"
  cp "$out/features.png" "docs/features-$head.png"
done
