#!/usr/bin/env bash
# Runs on the GPU machine from the bundle pack-train-step.sh made: the training step's parity test, then its
# benchmark. Writes device.txt, parity.txt and bench.txt to $OUT (when set) as well as stdout.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp}
java="$here/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g"
cp="$here/classes:$here/test-classes:$here/trainer-classes:$here/trainer-test-classes:$(ls "$here"/lib/*.jar | tr '\n' ':')"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader
  nproc
} | tee "$out/device.txt"
echo "== parity tests"
$java -cp "$cp" io.sidewinder.ssm.kernels.cuda.DeviceTestMain ${TEST_CLASSES:-io.sidewinder.trainer.grad.CudaTrainStepParityTest io.sidewinder.trainer.train.CudaBatchGradientsTest} 2>&1 \
  | tee "$out/parity.txt"
tests=${PIPESTATUS[0]}
echo "== benchmark"
$java -cp "$cp" io.sidewinder.trainer.grad.CudaTrainStepBenchmark ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.txt"
bench=${PIPESTATUS[0]}
if [[ -n ${PROFILE:-} ]] && command -v nsys >/dev/null 2>&1; then
  echo "== nsys kernel summary (benchmark, 100 steps per configuration)"
  timeout 120 nsys profile -o "$out/step" --force-overwrite true $java -cp "$cp" \
    io.sidewinder.trainer.grad.CudaTrainStepBenchmark 100 > /dev/null 2>&1
  nsys stats -r cuda_gpu_kern_sum "$out/step.nsys-rep" 2>&1 | tee "$out/kernels.txt" | head -40
  rm -f "$out"/step.nsys-rep "$out"/step.sqlite
fi
echo "exit: tests $tests, benchmark $bench"
exit $(( tests != 0 || bench != 0 ))
