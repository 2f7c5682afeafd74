#!/usr/bin/env bash
# The README's accuracy table: for each head, facet and PyTorch (examples/reference/train_torch.py)
# train the same model with the same recipe, then facet's run is verified. Runs land in
# runs/MODEL-HEAD-EPOCHS and runs/torch-MODEL-HEAD-EPOCHS; a finished run is kept and an unfinished
# facet run is resumed, so the table can be built over several sittings.
# Usage: tools/accuracy_table.sh BUILD_DIR MODEL EPOCHS [HEAD...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1 model=$2 epochs=$3
shift 3
heads=("$@")
[ ${#heads[@]} -gt 0 ] || heads=(softmax center cosface arcface sphereface combined subcenter)
python=${PYTHON_TORCH:-/usr/bin/python3}
rows() { if [ -f "$1/metrics.csv" ]; then awk 'NR > 1 && NF' "$1/metrics.csv" | wc -l; else echo 0; fi; }
last_test() { tail -n 1 "$1/metrics.csv" | awk -F, '{printf "%.2f%%", 100 * $4}'; }
flip() { grep -so 'flip test [0-9.]*%' "$1" | tail -n 1 || echo "no flip test"; }  # as verify.txt and a finished run's log print it
for head in "${heads[@]}"; do
  run=runs/$model-$head-$epochs torch_run=runs/torch-$model-$head-$epochs
  args=(--model "$model" --head "$head" --feat-dim 128 --epochs "$epochs")
  if [ "$(rows "$run")" -lt "$epochs" ]; then
    resume=()
    [ -f "$run/latest.txt" ] && resume=(--resume)
    "$build/examples/train" "${args[@]}" --out "$run" "${resume[@]}" --quiet >>"$run.log" 2>&1
  fi
  [ -f "$run/verify.txt" ] || "$build/examples/verify" --run "$run" >"$run/verify.txt" 2>&1
  if [ "$(rows "$torch_run")" -lt "$epochs" ]; then
    "$python" examples/reference/train_torch.py "${args[@]}" --threads 2 --out "$torch_run" >"$torch_run.log" 2>&1
  fi
  echo "$head: facet $(last_test "$run") ($(flip "$run/verify.txt")), PyTorch $(last_test "$torch_run") ($(flip "$torch_run.log")); $(grep -m1 -i 'verification\|10-fold' "$run/verify.txt" || true)"
done
