#!/usr/bin/env bash
# Everything that needs a GPU, in one call of a few minutes (make gpu-check):
#   1. build for sm_90 with every core (tests and benchmarks), with cuDNN (USE_CUDNN=1) where
#      cudnn.h is found, so the conv benchmark sets facet's algorithms beside cuDNN,
#   2. run the whole test suite, the cuda suite included,
#   3. compute-sanitizer memcheck over the cuda suite, racecheck over the reduction kernels,
#   4. the benchmarks (GPU and CPU),
#   5. a short table, printed last. Logs go to $OUT when set, else build/gpu-check.
# The device machine reaches no package registry: where doctest or OpenBLAS are missing there,
# run tools/gpu_deps.sh here first and carry .gpu-deps; this script unpacks it.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/gpu-check}
mkdir -p "$out"
jobs=$(nproc 2>/dev/null || echo 4)
build=build/gpu
summary="$out/summary.txt"
: >"$summary"

if compgen -G ".gpu-deps/*.deb" >/dev/null; then
  prefix=/tmp/facet-deps
  mkdir -p "$prefix"
  for f in .gpu-deps/*.deb; do dpkg-deb -x "$f" "$prefix"; done
  blas_inc="$prefix/usr/include/x86_64-linux-gnu/openblas-pthread"
  blas_lib="$prefix/usr/lib/x86_64-linux-gnu/openblas-pthread"
  export CPATH="$prefix/usr/include:$blas_inc${CPATH:+:$CPATH}"
  export LIBRARY_PATH="$blas_lib:$prefix/usr/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$blas_lib:$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# step NAME COMMAND...: runs the command with its output in $out/NAME.log and records the result.
step() {
  local name=$1
  shift
  local start=$SECONDS
  if "$@" >"$out/$name.log" 2>&1; then
    printf '%-12s ok      %4ds\n' "$name" $((SECONDS - start)) >>"$summary"
    return 0
  fi
  printf '%-12s FAILED  %4ds  (see %s/%s.log)\n' "$name" $((SECONDS - start)) "$out" "$name" >>"$summary"
  return 1
}

skip() { printf '%-12s skipped       (%s)\n' "$1" "$2" >>"$summary"; }

# The benchmarks with their default arguments (CPU), then the GPU runs of the ones that take a
# device: the training step (beside PyTorch eager and PyTorch CUDA graphs where torch imports)
# and the ArcFace head.
benches() {
  for b in "$build"/bench/*; do
    case "$b" in *.d) continue ;; esac
    echo "== $b"
    "$b" || return 1
  done
  if [ "$gpus" -gt 0 ]; then
    echo "== $build/bench/train_step cuda"
    python3 bench/torch_ref.py train_step "$build/bench/train_step" cuda cnn || return 1
    echo "== $build/bench/loss_heads cuda"
    python3 bench/torch_ref.py heads "$build/bench/loss_heads" cuda || return 1
  fi
}

# cuDNN where its header is, in the places the Makefile looks.
nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cuda_home=$(dirname "$(dirname "$(readlink -f "$nvcc_path")")")
use_cudnn=0
for h in "$cuda_home/include/cudnn.h" /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h; do
  [ -f "$h" ] && use_cudnn=1
done

step build make -j"$jobs" BUILD="$build" CUDA=1 USE_CUDNN=$use_cudnn CUDA_ARCH="${CUDA_ARCH:-sm_90}" all \
  $(ls bench/*.cpp | sed "s|bench/\(.*\)\.cpp|$build/bench/\1|")
built=$?
gpus=0
if [ $built -eq 0 ]; then
  step tests "$build/facet_tests"
  gpus=$(sed -n 's/.*, \([0-9]*\) CUDA device.*/\1/p' "$out/tests.log" | head -1)
  gpus=${gpus:-0}
fi

sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ $built -ne 0 ]; then
  skip memcheck "build failed"
  skip racecheck "build failed"
  skip bench "build failed"
elif [ "$gpus" -eq 0 ]; then
  skip memcheck "no GPU"
  skip racecheck "no GPU"
  step bench benches
elif [ ! -x "$sanitizer" ]; then
  skip memcheck "no compute-sanitizer"
  skip racecheck "no compute-sanitizer"
  step bench benches
else
  step memcheck "$sanitizer" --tool memcheck --error-exitcode 1 "$build/facet_tests" -ts=cuda
  step racecheck "$sanitizer" --tool racecheck --error-exitcode 1 "$build/facet_tests" -ts=cuda \
    -tc='*reductions*,*softmax*,*implicit_gemm kernel*'
  step bench benches
fi

{
  echo
  echo "== gpu-check $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "cudnn: $([ "$use_cudnn" = 1 ] && echo "built in (USE_CUDNN=1)" || echo "not found, built without")"
  [ -f "$out/tests.log" ] && grep -E '^[0-9]+ passed' "$out/tests.log" | tail -1 | sed 's/^/tests: /'
  [ -f "$out/bench.log" ] && grep -E '^==|GB/s|TFLOP|GFLOP|^ +[0-9]+ +[0-9.]+ |^  conv_|^(softmax|center|cosface|arcface|sphereface|combined|subcenter) |^arcface_C' "$out/bench.log"
  echo
  cat "$summary"
} | tee "$out/table.txt"
! grep -q FAILED "$summary"
