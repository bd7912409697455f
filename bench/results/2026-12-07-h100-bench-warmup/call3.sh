#!/bin/bash
# s20 call 3: CudaScanBenchmark with the time-based warm-up (and the whole GPU suite around it).
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv > $OUT/device.txt
bash "$root/target/gpu-bundle/run-gpu-suite.sh"
