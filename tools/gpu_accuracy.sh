#!/usr/bin/env bash
# On a GPU machine (make gpu-accuracy): the README's accuracy rows for every head at once. Builds
# the examples for sm_90, then trains each head's facet run (with --cuda-graph where a graph can
# hold the head) and its PyTorch run (examples/reference/train_torch.py) side by side on the one
# GPU, verifies facet's runs, and prints one line per head last. 128-d features, the recipe of
# tools/accuracy_table.sh. The runs stop at a deadline so that one 10-minute call of the device tool
# returns its table; a run cut short shows the last epoch it finished. The run folders' metrics and
# verification go to $OUT/runs.tar.gz, the table to $OUT/accuracy.txt.
# Usage: tools/gpu_accuracy.sh [MODEL EPOCHS [HEAD...]]   (default: resnet 15, every head)
# LR=x passes --lr x, BATCH=n --batch n, ERASE=p --erase p and WIDTH=w --width w (resnet) to both
# frameworks (train's defaults otherwise).
# On a machine without packages, run tools/gpu_deps.sh here first and carry .gpu-deps (doctest,
# OpenBLAS and Fashion-MNIST), as for make gpu-check.
set -uo pipefail
cd "$(dirname "$0")/.."
model=${1:-resnet} epochs=${2:-15}
shift $(($# >= 2 ? 2 : $#))
heads=("$@")
[ ${#heads[@]} -gt 0 ] || heads=(softmax center cosface arcface sphereface combined subcenter)
out=${OUT:-build/gpu-accuracy}
# Seconds for the whole script: lower it (DEADLINE=s) to what the session's device time allows
# (make gpu-check and this do not both fit in one session's 15 minutes at their defaults).
deadline=${DEADLINE:-540}
mkdir -p "$out" runs

source tools/gpu_deps_env.sh  # CPATH and friends for the carried packages, $data for the dataset

# The examples gpu-check built in build/gpu when it ran just before on this machine; else a build
# of their own (not in build/gpu, whose flags gpu-check sets).
build=build/gpu
if [ ! -x "$build/examples/train" ] || [ ! -x "$build/examples/verify" ]; then
  build=build/gpu-examples
  make -j"$(nproc)" BUILD="$build" CUDA=1 CUDA_ARCH="${CUDA_ARCH:-sm_90}" "$build/examples/train" \
    "$build/examples/verify" >"$out/build.log" 2>&1 || { echo "build failed (see $out/build.log)"; exit 1; }
fi

# OpenMP on one thread a process (each run also has its loader thread); the GPU does the rest.
export OMP_NUM_THREADS=1
left=$((deadline - SECONDS - 45))  # 45 s for the verifications and the table
[ "$left" -ge 60 ] || { echo "only $left s left to train: raise DEADLINE" | tee "$out/accuracy.txt"; exit 1; }
pids=()
for head in "${heads[@]}"; do
  run=runs/gpu-$model-$head-$epochs torch_run=runs/gpu-torch-$model-$head-$epochs
  rm -rf "$run" "$torch_run"
  args=(--model "$model" --head "$head" --feat-dim 128 --epochs "$epochs" --data "$data" ${LR:+--lr "$LR"} ${BATCH:+--batch "$BATCH"} ${ERASE:+--erase "$ERASE"} ${WIDTH:+--width "$WIDTH"})
  graph=(--cuda-graph)
  [ "$head" = sphereface ] && graph=()  # its lambda anneals on the host
  timeout "$left" "$build/examples/train" "${args[@]}" --device cuda "${graph[@]}" --quiet --out "$run" \
    >"$run.log" 2>&1 &
  pids+=($!)
  timeout "$left" "${PYTHON_TORCH:-python3}" examples/reference/train_torch.py "${args[@]}" --device cuda --threads 1 \
    --out "$torch_run" >"$torch_run.log" 2>&1 &
  pids+=($!)
done
wait "${pids[@]}"

last() {  # "EPOCHS_DONE TEST_ACCURACY" of a run folder's metrics.csv
  if [ -f "$1/metrics.csv" ]; then awk -F, 'NR > 1 && NF { n = $1; a = $4 } END { printf "%d %.2f", n, 100 * a }' \
    "$1/metrics.csv"; else echo "0 -"; fi
}
flip() { grep -so 'flip test [0-9.]*%' "$1" | tail -n 1 || echo "no flip test"; }  # as verify.txt and a finished run's log print it
# facet's runs verified all at once; a run stopped at the deadline from its last finished epoch.
pids=()
for head in "${heads[@]}"; do
  run=runs/gpu-$model-$head-$epochs
  [ -f "$run/model.safetensors" ] || [ ! -f "$run/latest.txt" ] ||
    cp "$run/epoch-$(awk '{print $2}' "$run/latest.txt")/model.safetensors" "$run/model.safetensors"
  [ -f "$run/model.safetensors" ] || continue
  timeout 30 "$build/examples/verify" --run "$run" --device cuda >"$run/verify.log" 2>&1 &
  pids+=($!)
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
{
  echo "== gpu-accuracy $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader
  echo "$model, 128-d, $epochs epochs, lr ${LR:-default}, batch ${BATCH:-default}: head, facet (epochs done, test %), PyTorch (epochs done, test %), facet's verification"
  for head in "${heads[@]}"; do
    run=runs/gpu-$model-$head-$epochs torch_run=runs/gpu-torch-$model-$head-$epochs
    verified=$(grep -so 'verification.*' "$run/verify.txt" || echo "not verified")  # verify writes verify.txt
    echo "$head | facet $(last "$run"), $(flip "$run/verify.txt") | PyTorch $(last "$torch_run"), $(flip "$torch_run.log") | $verified"
  done
} | tee "$out/accuracy.txt"
files=()
for head in "${heads[@]}"; do
  for r in runs/gpu-$model-$head-$epochs runs/gpu-torch-$model-$head-$epochs; do
    for f in "$r.log" "$r/metrics.csv" "$r/verify.txt" "$r/verify.log"; do [ -f "$f" ] && files+=("$f"); done
  done
done
[ ${#files[@]} -gt 0 ] && tar -czf "$out/runs.tar.gz" "${files[@]}"
exit 0
