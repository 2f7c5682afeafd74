#!/usr/bin/env bash
# Checks that --resume continues a run bit for bit on the CPU: one run of two epochs straight,
# one stopped after the first epoch and resumed; the final weights must be byte-identical.
# Usage: tools/check_resume.sh [BUILD_DIR]   (make check-resume)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Crop, flip and random erasing on, so that every augmentation draw is replayed too.
flags=(--model cnn --head center --feat-dim 16 --epochs 2 --limit 1024 --batch 128 --erase 0.5 --device cpu --quiet)
"$build/examples/train" "${flags[@]}" --out "$dir/straight" >/dev/null
"$build/examples/train" "${flags[@]}" --out "$dir/resumed" --stop-after 1 >/dev/null
"$build/examples/train" "${flags[@]}" --out "$dir/resumed" --resume >/dev/null
if cmp -s "$dir/straight/model.safetensors" "$dir/resumed/model.safetensors"; then
  echo "resume: bit-identical (2 epochs straight = 1 epoch, stop, --resume)"
else
  echo "resume: the resumed run's weights differ from the straight run's"
  exit 1
fi
