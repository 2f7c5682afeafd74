#!/usr/bin/env bash
# Run here, before a device run: downloads the Debian packages the build needs (doctest,
# OpenBLAS and its Fortran runtime, zlib headers) into .gpu-deps/, with a copy of Fashion-MNIST for the
# example's run, which the GPU machine cannot fetch itself
# (it reaches no registry). Name .gpu-deps in the device call's `carry`; tools/gpu_check.sh unpacks
# them there. The folder is git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu-deps
cd .gpu-deps
apt-get download doctest-dev libopenblas-dev libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libquadmath0 \
  zlib1g-dev >/dev/null
data=/usr/share/datasets/fashion-mnist  # Debian's dataset-fashion-mnist (make deps installs it)
mkdir -p fashion-mnist
cp "$data"/*-ubyte.gz fashion-mnist/
ls -1 *.deb fashion-mnist/*
