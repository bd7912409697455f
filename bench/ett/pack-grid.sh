#!/usr/bin/env bash
# Packs what a CPU-only run of the ETT accuracy grid needs on the device machine (16 cores, no Java): the jlink'ed
# Java 25 runtime, the app's jars with the CUDA fatbins taken out of the ssm-kernels jar (the grid trains on SIMD;
# the fatbins would not fit the 64 MiB carry limit beside the runtime and the data), the DeviceCli launcher,
# ETTh1.csv and ETTm1.csv gzipped, and grid-on-device.sh. Output: $1, default target/ett-grid (the device `run`
# call names it in `carry`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:-"--sun-misc-unsafe-memory-access=allow"}
ett=${ETT_DIR:-$root/../shared/datasets/ett}
bundle=${1:-target/ett-grid}
source bench/gpu/train-bundle.sh
jre=$(train_runtime)
[[ -n ${SKIP_BUILD:-} ]] || mvn -B -q -o -pl app -am package -DskipTests
rm -rf "$bundle"
mkdir -p "$bundle/data"
train_jars_and_cli "$bundle"
kjar=$(cd "$bundle/lib" && pwd)/$(cd "$bundle/lib" && ls sidewinder-ssm-kernels-*.jar)
strip=$(mktemp -d)
(cd "$strip" && "$JAVA_HOME/bin/jar" xf "$kjar" && find . -name '*.fatbin' -delete && rm -f "$kjar" \
  && "$JAVA_HOME/bin/jar" cfm "$kjar" META-INF/MANIFEST.MF $(ls | grep -v META-INF))
rm -rf "$strip"
for f in ETTh1 ETTm1; do gzip -9 -c "$ett/$f.csv" > "$bundle/data/$f.csv.gz"; done
cp -r "$jre" "$bundle/jre"
cp bench/ett/grid-on-device.sh "$bundle/"
du -sh "$bundle"
