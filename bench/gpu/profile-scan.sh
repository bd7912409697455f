#!/usr/bin/env bash
# Profiles the forward scan kernel on the GPU machine, no Java needed: builds selective_scan.cu (or the cubins given)
# and the harness there, times the kernels, dumps their SASS and runs Nsight Compute on one launch.
#   device run, from the repository root:  bash bench/gpu/profile-scan.sh [base.cubin [variant.cubin ...]]
# Without arguments it profiles the committed kernels; with cubins (compiled here, e.g. with
# `nvcc -cubin -O3 -arch=sm_90 -I ssm-kernels/src/main/cuda`, carried in an ignored folder) it times each against the first.
# Files (under $OUT): env.txt, harness.txt, <name>.sass, details.txt (ncu --set full), source.csv (per-SASS stall samples).
set -uo pipefail
out=${OUT:-/tmp/profile-scan}
mkdir -p "$out"
work=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee "$out/env.txt"
nvcc -O2 -o "$work/harness" bench/gpu/scan-harness.cu || exit 1
cubins=("$@")
if [ ${#cubins[@]} -eq 0 ]; then
  nvcc -cubin -O3 -arch=sm_90 -o "$work/committed.cubin" ssm-kernels/src/main/cuda/selective_scan.cu || exit 1
  cubins=("$work/committed.cubin")
fi
base=${cubins[0]}
{
  for c in "${cubins[@]}"; do
    echo "== $(basename "$c") vs $(basename "$base")"
    "$work/harness" "$base" "$c" fwd:zoh:p4:p4 fwd:euler:p4:p4
  done
} 2>&1 | tee "$out/harness.txt"
for c in "${cubins[@]}"; do cuobjdump -sass "$c" > "$out/$(basename "$c" .cubin).sass"; done
# one launch of the ZOH forward, after the harness's warm-up launches
timeout 300 ncu --clock-control none --kernel-name regex:sw_scan_fwd_zoh_n16_p4 --launch-skip 3 --launch-count 1 \
  --set full -o "$work/prof" -f "$work/harness" "$base" "$base" fwd:zoh:p4:p4 > /dev/null 2>&1
ncu -i "$work/prof.ncu-rep" --page details > "$out/details.txt" 2>&1
ncu -i "$work/prof.ncu-rep" --page source --print-source sass --csv > "$out/source.csv" 2>&1
grep -E "Duration|Executed Ipc Active|Issue Slots Busy|Achieved Occupancy|No Eligible|Registers Per" "$out/details.txt" | head -20
