#!/usr/bin/env bash
# Installs the Debian packages facet's build and tests need, if any are missing.
# As root it runs apt-get itself; otherwise it prints the one command to run and fails.
set -euo pipefail

# dataset-fashion-mnist: the examples' data and the smoke test; gnuplot-nox: the examples' pictures.
packages=(g++ make doctest-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist gnuplot-nox)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: not a Debian system; make sure these are installed: ${packages[*]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: missing packages: ${missing[*]}"
  echo "deps: run: sudo apt-get install -y ${missing[*]}"
  exit 1
fi
