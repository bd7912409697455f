#!/usr/bin/env bash
# Runs on the GPU machine from the bundle pack-train-step.sh made: every CUDA parity test (scan, contract, trainer
# shapes, resident training step, trainer batch gradients), the training-step benchmark and the scan benchmark.
# Writes device.txt, parity.txt, train-step-bench.txt and bench.txt to $OUT (when set).
#   bash bench/gpu/pack-train-step.sh target/gpu-bundle     # build machine (57 MiB)
#   device run, carry ["target/gpu-bundle"]:  bash target/gpu-bundle/run-gpu-suite.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp}
OUT=$out TEST_CLASSES="io.sidewinder.ssm.kernels.cuda.CudaScanParityTest io.sidewinder.ssm.kernels.cuda.CudaContractParityTest \
io.sidewinder.ssm.kernels.cuda.CudaTrainerShapesTest io.sidewinder.ssm.kernels.cuda.CudaRuntimeThreadsTest \
io.sidewinder.trainer.grad.CudaTrainStepParityTest \
io.sidewinder.trainer.train.CudaBatchGradientsTest" bash "$here/run-train-step.sh" > "$out/run.txt" 2>&1
status=$?
mv "$out/bench.txt" "$out/train-step-bench.txt"
java="$here/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g"
cp="$here/classes:$here/test-classes:$here/trainer-classes:$here/trainer-test-classes:$(ls "$here"/lib/*.jar | tr '\n' ':')"
$java -cp "$cp" io.sidewinder.ssm.kernels.cuda.CudaScanBenchmark ${BENCH_ARGS:-} > "$out/bench.txt" 2>&1
bench=$?
grep -E "tests (successful|failed)" "$out/parity.txt"
grep -E "forward|atomics" "$out/bench.txt" | grep -v " seg " | head -16
echo "exit: parity + step benchmark $status, scan benchmark $bench"
exit $(( status != 0 || bench != 0 ))
