#!/usr/bin/env bash
# Run here, before a device run: downloads the Debian packages the build needs (doctest,
# OpenBLAS and its Fortran runtime, zlib headers) into .gpu-deps/, which the GPU machine cannot fetch itself
# (it reaches no registry). Name .gpu-deps in the device call's `carry`; tools/gpu_check.sh unpacks
# them there. The folder is git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu-deps
cd .gpu-deps
apt-get download doctest-dev libopenblas-dev libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libquadmath0 \
  zlib1g-dev >/dev/null
ls -1 *.deb
