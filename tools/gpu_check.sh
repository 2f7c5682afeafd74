#!/usr/bin/env bash
# Everything that needs a GPU, in one call of a few minutes (make gpu-check):
#   1. build for sm_90 with every core (tests and benchmarks), with cuDNN (USE_CUDNN=1) where
#      cudnn.h is found, so the conv benchmark sets facet's algorithms beside cuDNN,
#   2. run the whole test suite, the cuda suite included,
#   3. the benchmarks (GPU and CPU): the numbers come back even if a later step runs out of time,
#      then the example trained on real data, eager and with --cuda-graph,
#   4. compute-sanitizer memcheck over the cuda suite and over a small training step (eager and
#      as a CUDA graph), racecheck over the reduction kernels,
#   5. a short table, printed last. Logs go to $OUT when set, else build/gpu-check.
# Each step has a time limit (below) so the whole run ends inside the device tool's 10 minutes
# a call and still prints its table; a step that hits its limit reads TIMEOUT there. The device
# tool returns at most 8 files: the 7 logs and table.txt.
# The device machine reaches no package registry: where doctest or OpenBLAS are missing there,
# run tools/gpu_deps.sh here first and carry .gpu-deps; this script unpacks it.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/gpu-check}
mkdir -p "$out"
jobs=$(nproc 2>/dev/null || echo 4)
build=build/gpu
summary="$build/gpu-check-summary.txt"
mkdir -p "$build"
: >"$summary"
# Seconds per step, at most; no step runs past `deadline` seconds of the script, so the table is
# printed before the device tool stops the call at 600.
limit_build=240 limit_tests=90 limit_bench=150 limit_train=60 limit_memcheck=120 limit_sanbench=60 limit_racecheck=60
deadline=${DEADLINE:-560}  # lower it (DEADLINE=s) when the session has less device time left

source tools/gpu_deps_env.sh  # the carried packages (CPATH and friends) and $data, the dataset

# step NAME SECONDS COMMAND...: runs the command, for at most SECONDS, with its output in
# $out/NAME.log and records the result.
step() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS status=0
  if [ $((deadline - SECONDS)) -lt "$limit" ]; then limit=$((deadline - SECONDS)); fi
  if [ "$limit" -le 0 ]; then
    skip "$name" "no time left"
    return 1
  fi
  if declare -F "$1" >/dev/null; then  # timeout runs programs, so a function runs in a child bash
    timeout -k 10 "$limit" bash -c "$(declare -f "$1"); $(printf '%q ' "$@")" >"$out/$name.log" 2>&1 || status=$?
  else
    timeout -k 10 "$limit" "$@" >"$out/$name.log" 2>&1 || status=$?
  fi
  if [ $status -eq 0 ]; then
    printf '%-12s ok      %4ds\n' "$name" $((SECONDS - start)) >>"$summary"
    return 0
  fi
  local what=FAILED
  [ $status -eq 124 ] && what=TIMEOUT
  printf '%-12s %-7s %4ds  (see %s/%s.log)\n' "$name" "$what" $((SECONDS - start)) "$out" "$name" >>"$summary"
  return 1
}

skip() { printf '%-12s skipped       (%s)\n' "$1" "$2" >>"$summary"; }

# The CUDA benchmarks, then the GPU runs beside PyTorch (the training step, eager and as a CUDA
# graph, beside PyTorch eager and PyTorch's CUDA graph; the ArcFace head), then the CPU
# benchmarks, slowest last: what the GPU targets need comes back first if time runs out. A failure
# is recorded and the rest still run.
benches() {
  local rc=0 b
  shopt -s nullglob
  for b in "$build"/bench/cuda_*; do
    case "$b" in *.d) continue ;; esac
    echo "== $b"
    "$b" || { echo "FAILED: $b"; rc=1; }
  done
  if [ "$gpus" -gt 0 ]; then
    echo "== $build/bench/train_step cuda"
    python3 bench/torch_ref.py train_step "$build/bench/train_step" cuda cnn || { echo "FAILED: train_step cuda"; rc=1; }
    echo "== $build/bench/loss_heads cuda"
    python3 bench/torch_ref.py heads "$build/bench/loss_heads" cuda || { echo "FAILED: loss_heads cuda"; rc=1; }
  fi
  for b in "$build"/bench/*; do
    case "$b" in *.d | "$build"/bench/cuda_*) continue ;; esac
    echo "== $b"
    "$b" || { echo "FAILED: $b"; rc=1; }
  done
  return $rc
}

# The example on real data, eager and then with --cuda-graph: two epochs of cnn + ArcFace on the
# first 20 000 training images each (the second epoch's img/s is past the start-up and the capture),
# then one short ResNet + center-loss epoch with --cuda-graph (what make gpu-accuracy captures).
trains() {
  local rc=0 mode
  for mode in eager graph; do
    echo "== train $mode"
    "$build/examples/train" --device cuda --model cnn --head arcface --epochs 2 --limit 20000 --quiet --data "$data" \
      --out "$build/run-$mode" $([ $mode = graph ] && echo --cuda-graph) || { echo "FAILED: train $mode"; rc=1; }
  done
  echo "== train resnet graph"
  "$build/examples/train" --device cuda --model resnet --head center --epochs 1 --limit 2048 --quiet --data "$data" \
    --out "$build/run-resnet" --cuda-graph || { echo "FAILED: train resnet graph"; rc=1; }
  return $rc
}

# cuDNN, the convolution benchmark's yardstick: beside the toolkit (where the Makefile looks), or
# else from PyTorch's pip wheel (nvidia-cudnn-*), reached through a folder of links since the wheel
# has no unversioned libcudnn.so (the Makefile's CUDNN_HOME). A small program must compile, link
# and run against it first; otherwise the build goes without cuDNN rather than failing.
nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cuda_home=$(dirname "$(dirname "$(readlink -f "$nvcc_path")")")
cudnn_home=""
for h in "$cuda_home/include/cudnn.h" /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h; do
  [ -f "$h" ] && cudnn_home=toolkit
done
wheel=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
if [ -z "$cudnn_home" ] && [ -n "$wheel" ] && [ -f "$wheel/include/cudnn.h" ]; then
  cudnn_home=/tmp/facet-cudnn
  mkdir -p "$cudnn_home/lib"
  ln -sfn "$wheel/include" "$cudnn_home/include"
  for l in "$wheel"/lib/libcudnn*.so*; do ln -sf "$l" "$cudnn_home/lib/"; done
  [ -e "$cudnn_home/lib/libcudnn.so" ] || ln -sf "$(ls "$wheel"/lib/libcudnn.so.* | head -1)" "$cudnn_home/lib/libcudnn.so"
  export LD_LIBRARY_PATH="$cudnn_home/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
cudnn_flags=()
[ "$cudnn_home" = /tmp/facet-cudnn ] && cudnn_flags=(-I"$cudnn_home/include" -L"$cudnn_home/lib")
use_cudnn=0
if [ -n "$cudnn_home" ] && printf '#include <cudnn.h>\nint main() { return cudnnGetVersion() > 0 ? 0 : 1; }\n' |
  g++ -x c++ - -I"$cuda_home/include" "${cudnn_flags[@]}" -L"$cuda_home/lib64" -lcudnn -o "$build/cudnn-probe" \
    >/dev/null 2>&1 && "$build/cudnn-probe"; then
  use_cudnn=1
fi
cudnn_make=(USE_CUDNN=$use_cudnn)
[ $use_cudnn = 1 ] && [ "$cudnn_home" = /tmp/facet-cudnn ] && cudnn_make+=(CUDNN_HOME="$cudnn_home")

# -k: one target that fails to build (recorded as FAILED) leaves the others to run.
step build $limit_build make -k -j"$jobs" BUILD="$build" CUDA=1 "${cudnn_make[@]}" CUDA_ARCH="${CUDA_ARCH:-sm_90}" all \
  $(ls bench/*.cpp | sed "s|bench/\(.*\)\.cpp|$build/bench/\1|")
built=1
[ -x "$build/facet_tests" ] && built=0
gpus=0
if [ $built -eq 0 ]; then
  step tests $limit_tests "$build/facet_tests"
  gpus=$(sed -n 's/.*, \([0-9]*\) CUDA device.*/\1/p' "$out/tests.log" | head -1)
  gpus=${gpus:-0}
fi
export build gpus data  # read by benches and trains, which run in a child bash

sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
sanitizer_steps="memcheck sanbench racecheck"
if [ $built -ne 0 ]; then
  skip bench "no test binary"
  skip train "no test binary"
  for s in $sanitizer_steps; do skip "$s" "no test binary"; done
elif [ "$gpus" -eq 0 ]; then
  step bench $limit_bench benches
  skip train "no GPU"
  for s in $sanitizer_steps; do skip "$s" "no GPU"; done
elif [ ! -x "$sanitizer" ]; then
  step bench $limit_bench benches
  step train $limit_train trains
  for s in $sanitizer_steps; do skip "$s" "no compute-sanitizer"; done
else
  step bench $limit_bench benches
  step train $limit_train trains
  # API errors are not the sanitizer's to report: facet checks every CUDA call (a failed one fails
  # its test), and the suite fails some on purpose (an allocation larger than the GPU).
  san=("$sanitizer" --report-api-errors no --error-exitcode 1)
  step memcheck $limit_memcheck "${san[@]}" --tool memcheck "$build/facet_tests" -ts=cuda
  # A small training step of two heads, eager and captured as a CUDA graph and replayed.
  step sanbench $limit_sanbench "${san[@]}" --tool memcheck "$build/bench/train_step" cuda cnn 32 softmax arcface
  step racecheck $limit_racecheck "${san[@]}" --tool racecheck "$build/facet_tests" -ts=cuda \
    -tc='*reductions*,*softmax*,*implicit_gemm kernel*'
fi

{
  echo
  echo "== gpu-check $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "cudnn: $([ "$use_cudnn" = 1 ] && echo "built in (USE_CUDNN=1${cudnn_make[1]:+, ${cudnn_make[1]}})" || echo "not found or not working, built without")"
  [ -f "$out/tests.log" ] && grep -E '^[0-9]+ passed' "$out/tests.log" | tail -1 | sed 's/^/tests: /'
  [ -f "$out/bench.log" ] && grep -E '^==|GB/s|TFLOP|GFLOP|^ +[0-9]+ +[0-9.]+ |^  conv_|^(softmax|center|cosface|arcface|sphereface|combined|subcenter) |^arcface_C' "$out/bench.log"
  [ -f "$out/train.log" ] && grep -E '^== train|^epoch|^FAILED' "$out/train.log"
  echo
  cat "$summary"
} | tee "$out/table.txt"
! grep -qE "FAILED|TIMEOUT" "$summary"
