#!/usr/bin/env bash
# Runs on the GPU machine from the bundle pack-train.sh made: the CUDA parity tests of the trainer's scan calls,
# then the same short ETTh1 training twice with the same seed (--backend simd, then --backend cuda), then the
# standard test-split evaluation of each model (SKIP_TESTS=1, SKIP_EVAL=1 leave those out; BACKENDS="simd cuda"
# and TRAIN_ARGS pick the runs). Writes everything to $OUT (when set) as well as stdout.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp}
java="$here/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx16g"
app="$here/sidewinder-app.jar"
cli="$java -cp $here/cli:$app:$(ls "$here"/lib/*.jar | tr '\n' ':') DeviceCli"
train_args=${TRAIN_ARGS:-"--epochs 2 --samples-per-epoch 2048 --threads 16 --seed 1"}
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader
  echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo)"
  echo "train args: $train_args"
} | tee "$out/device.txt"
status=0
if [[ -z ${SKIP_TESTS:-} ]]; then
  echo "== parity tests (trainer scan calls on the GPU)"
  cp="$app:$(ls "$here"/lib/*.jar | tr '\n' ':')$here/test-classes:$here/trainer-test-classes:$(ls "$here"/test-lib/*.jar | tr '\n' ':')"
  $java -cp "$cp" io.sidewinder.ssm.kernels.cuda.DeviceTestMain \
    io.sidewinder.ssm.kernels.cuda.CudaTrainerShapesTest io.sidewinder.ssm.kernels.cuda.CudaContractParityTest \
    io.sidewinder.ssm.kernels.KernelsCreateTest io.sidewinder.trainer.grad.CudaTrainStepParityTest \
    io.sidewinder.trainer.train.CudaBatchGradientsTest 2>&1 | tee "$out/parity.txt"
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
fi
for backend in ${BACKENDS:-simd cuda}; do
  echo "== train --backend $backend"
  req=""; [[ $backend == cuda ]] && req="--require-gpu"
  timeout ${STEP_TIMEOUT:-240} /usr/bin/time -v $cli train --data "$here/data/ETTh1.csv" --precision FP32 --backend $backend $req \
    $train_args --out "$out/model-$backend.avro" > "$out/train-$backend.txt" 2> "$out/train-$backend.err"
  rc=$?
  tr '\r' '\n' < "$out/train-$backend.err" | grep -v '^\[#*\.*\] epoch' | grep -v '^$' | tail -40
  grep -E 'epoch .*val-mse [0-9]' <(tr '\r' '\n' < "$out/train-$backend.err") | tail -3
  cat "$out/train-$backend.txt"
  [[ $rc == 0 ]] || { status=1; continue; }
  [[ -n ${SKIP_EVAL:-} ]] && continue
  echo "== eval forecast --model model-$backend.avro (test split)"
  timeout ${STEP_TIMEOUT:-240} $cli eval-forecast --data "$here/data/ETTh1.csv" --model "$out/model-$backend.avro" 2>&1 \
    | tee "$out/eval-$backend.txt" | grep -v '^$' | tail -3
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
done
echo "exit: $status"
exit $status
