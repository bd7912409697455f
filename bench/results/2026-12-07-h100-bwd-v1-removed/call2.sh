#!/bin/bash
# s20 call 2: the first sequential backward (sw_scan_bwd_*) removed. Harness: commit 5359045's kernels
# (prev.fatbin) vs this tree's (the bundle's fatbin), then the whole Java GPU suite from the bundle.
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
gunzip -kf prev.fatbin.gz
nvcc -O2 -o harness "$root/bench/gpu/scan-harness.cu" 2>&1 | grep -v warning | head -5
new="$root/target/gpu-bundle/classes/io/sidewinder/ssm/kernels/cuda/sidewinder-kernels.fatbin"
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv > $OUT/device.txt
{
./harness prev.fatbin "$new" fwd:zoh:p2:p2 fwd:euler:p2:p2 fwd:zoh:p4:p4 bwd:zoh:v2p2:v2p2 bwd:euler:v2p2:v2p2 bwd:zoh:v2:v2 fwd:zoh:ls:ls bwd:zoh:ls:ls
./harness prev.fatbin "$new" 2 600 200 1 fwd:zoh:p2:p2 bwd:zoh:v2p2:v2p2 bwd:bilinear:v2:v2 fwd:euler:p4:p4
} 2>&1 | tee $OUT/harness.txt | grep -E "^(shape|fwd|bwd)|LARGE|NON"
bash "$root/target/gpu-bundle/run-gpu-suite.sh"
