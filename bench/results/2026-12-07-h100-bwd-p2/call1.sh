#!/bin/bash
# s18 call 1: bwd2 with 2 states per thread (MINB 4 / 3) against the committed 4/thread bwd2; sr = + scale in reduction
cd "$(dirname "$0")"
nvcc -O2 -o harness ../../bench/gpu/scan-harness.cu 2>&1 | grep -v warning | head -5
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv > $OUT/device.txt
{
./harness old.cubin p2m4.cubin bwd:zoh:v2:v2p2 bwd:euler:v2:v2p2 bwd:bilinear:v2:v2p2
./harness old.cubin p2m3.cubin bwd:zoh:v2:v2p2 bwd:euler:v2:v2p2
./harness old.cubin sr.cubin bwd:zoh:v2:v2 bwd:zoh:v2:v2p2 bwd:euler:v2:v2p2
SCAN_CHUNK=64 ./harness old.cubin p2m4.cubin bwd:zoh:v2:v2p2
SCAN_CHUNK=64 ./harness old.cubin sr.cubin bwd:zoh:v2:v2p2
./harness old.cubin sr.cubin 2 600 200 1 bwd:zoh:v2:v2p2 bwd:euler:v2:v2p2 bwd:bilinear:v2:v2p2
./harness old.cubin sr.cubin 2 333 202 1 bwd:zoh:v2:v2p2 bwd:euler:v2:v2 bwd:zoh:v2:v2
./harness old.cubin sr.cubin 3 1000 72 0 bwd:zoh:v2:v2p2
} 2>&1 | tee $OUT/harness.txt | grep -E "^(shape|bwd)|LARGE|NON"
timeout 150 ncu --clock-control none --kernel-name regex:sw_scan_bwd2_zoh_n16_p2 --launch-skip 3 --launch-count 1 --set full -o $OUT/prof -f ./harness sr.cubin sr.cubin bwd:zoh:v2p2:v2p2 > /dev/null 2>&1
ncu -i $OUT/prof.ncu-rep --page details > $OUT/details.txt 2>&1
ncu -i $OUT/prof.ncu-rep --page source --print-source sass --csv > $OUT/source.csv 2>&1
rm -f $OUT/prof.ncu-rep
grep -E "Duration|Executed Ipc A|Issue Slots Busy|Achieved Active|Registers Per" $OUT/details.txt | head
