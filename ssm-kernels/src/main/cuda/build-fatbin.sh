#!/usr/bin/env bash
# Compiles the CUDA kernels into fatbins (sm_80, sm_90 and compute_90 PTX) for the classpath: the scan
# (selective_scan.cu and its .cuh) into $1, the training step's kernels (train_step.cu) into
# sidewinder-train.fatbin next to it. Without nvcc on the PATH it prints one line and exits 0: the build stays
# green and the CUDA backend reports itself unavailable at run time. Skips each compile when its fatbin is newer
# than every one of its sources.
set -euo pipefail
src_dir=$(cd "$(dirname "$0")" && pwd)
out=$1
train_out=$(dirname "$out")/sidewinder-train.fatbin
if ! command -v nvcc >/dev/null 2>&1; then
  echo "[cuda] nvcc not on PATH: building without the CUDA kernels (the CUDA backend will be unavailable)"
  exit 0
fi
mkdir -p "$(dirname "$out")"

# build OUTPUT MAIN_SOURCE SOURCE...: compiles MAIN_SOURCE unless OUTPUT is newer than every SOURCE
build() {
  local target=$1 main=$2
  shift 2
  if [[ -f "$target" ]]; then
    local stale=""
    for s in "$@"; do [[ "$s" -nt "$target" ]] && stale=1; done
    if [[ -z $stale ]]; then
      echo "[cuda] $target is up to date"
      return
    fi
  fi
  echo "[cuda] nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') -> $target"
  nvcc -fatbin -O3 \
    -gencode arch=compute_80,code=sm_80 \
    -gencode arch=compute_90,code=sm_90 \
    -gencode arch=compute_90,code=compute_90 \
    -o "$target.tmp" "$main"
  mv "$target.tmp" "$target"
}

build "$out" "$src_dir/selective_scan.cu" "$src_dir"/selective_scan*.cu "$src_dir"/selective_scan*.cuh
build "$train_out" "$src_dir/train_step.cu" "$src_dir/train_step.cu"
