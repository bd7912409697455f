#!/bin/bash
# s20 call 1: the segmented kernels removed. Harness: HEAD cd838ae's kernels (base.cubin) vs this tree's
# (the bundle's fatbin), then the whole Java GPU suite (parity + benchmarks) from the bundle.
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
gunzip -kf base.cubin.gz
nvcc -O2 -o harness "$root/bench/gpu/scan-harness.cu" 2>&1 | grep -v warning | head -5
new="$root/target/gpu-bundle/classes/io/sidewinder/ssm/kernels/cuda/sidewinder-kernels.fatbin"
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv > $OUT/device.txt
{
./harness base.cubin "$new" fwd:zoh:p2:p2 fwd:euler:p2:p2 fwd:zoh:p4:p4 bwd:zoh:v2p2:v2p2 bwd:euler:v2p2:v2p2 fwd:zoh:ls:ls bwd:zoh:ls:ls bwd:zoh:p2:p2
./harness base.cubin "$new" 2 600 200 1 fwd:zoh:p2:p2 bwd:zoh:v2p2:v2p2 bwd:bilinear:p4:p4 fwd:euler:p4:p4
} 2>&1 | tee $OUT/harness.txt | grep -E "^(shape|fwd|bwd)|LARGE|NON"
bash "$root/target/gpu-bundle/run-gpu-suite.sh"
