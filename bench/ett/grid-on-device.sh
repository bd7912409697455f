#!/usr/bin/env bash
# Runs ETT accuracy jobs side by side on the device machine's CPUs from the bundle pack-grid.sh made. Each job is
# the trainer README's command: `train` (THREADS, default 2 as `--threads 0` picks on the 2-core dev machine; the
# result is deterministic for a seed and thread count), then `eval forecast` on the test split and, with
# STREAMING=1 and H = 96, `eval forecast --streaming`. Jobs come as "<ETTh1|ETTm1> <M|S> <horizon> <seed> [train options]" lines on stdin;
# PARALLEL (default 8) run at once. Per job, $OUT/<file>-<features>-<H>-s<seed>.{train,err,eval,stream} hold the
# outputs; a summary line per job goes to stdout.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/ett-grid}
data_dir=${DATA_DIR:-/tmp/ett-data}
mkdir -p "$out" "$data_dir"
for f in "$here"/data/*.csv.gz; do b=$(basename "${f%.gz}"); [[ -f $data_dir/$b ]] || gunzip -c "$f" > "$data_dir/$b"; done
echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
export here out data_dir
job() {
  set -- $1
  local file=$1 features=$2 h=$3 seed=$4 name="$1-$2-$3-s$4"
  shift 4
  local extra="--epochs ${EPOCHS:-10} $*"  # a job's own options, e.g. --epochs 20 --d-model 64, override the defaults
  [[ $# == 0 ]] || name="$name$(echo "$*" | tr -d ' -' | tr -c 'A-Za-z0-9.\n' '_')"
  local java="$here/jre/bin/java --add-modules jdk.incubator.vector -Xmx8g"
  local cli="$java -cp $here/cli:$here/sidewinder-app.jar:$(ls "$here"/lib/*.jar | tr '\n' ':') DeviceCli"
  local data="$data_dir/$file.csv" start=$(date +%s)
  $cli train --data "$data" --features "$features" --horizon "$h" --seed "$seed" \
    --samples-per-epoch "${SAMPLES:-8192}" --precision FP32 --lr 1e-3 --loss SCALED_MSE --threads "${THREADS:-2}" \
    $extra --out "$out/$name.avro" > "$out/$name.train" 2> "$out/$name.err" || { echo "$name train failed"; return; }
  local took=$(( $(date +%s) - start ))
  $cli eval-forecast --data "$data" --features "$features" --horizon "$h" --model "$out/$name.avro" \
    > "$out/$name.eval" 2>&1
  local stream=""
  if [[ -n ${STREAMING:-} && $h == 96 ]]; then
    $cli eval-forecast --data "$data" --features "$features" --horizon "$h" --model "$out/$name.avro" --streaming \
      > "$out/$name.stream" 2>&1
    stream=" streaming: $(tail -1 "$out/$name.stream")"
  fi
  echo "$name train ${took}s | $(grep -E 'samples/s|best' "$out/$name.train" | tr '\n' ' ' | cut -c1-200) | $(tail -1 "$out/$name.eval")$stream"
}
export -f job
export STREAMING=${STREAMING:-} THREADS=${THREADS:-2} EPOCHS=${EPOCHS:-10} SAMPLES=${SAMPLES:-8192}
xargs -P "${PARALLEL:-8}" -I{} bash -c 'job "$@"' _ {}
rm -f "$out"/*.avro.tmp
