#!/usr/bin/env bash
# Packs what the GPU machine needs to run `sidewinder train` (it has CUDA but no Java): the jlink'ed Java 25
# runtime (~49 MiB with java.xml and java.naming, which logback needs for its configuration; kept between packs in
# target/device-jre-train), the app jar and only the jars a CSV training run
# and `eval forecast` load (no RocksDB, Kafka or Prometheus jars: a small launcher, DeviceCli, builds only those two commands), ssm-kernels' test classes with JUnit for the
# CUDA parity tests, trainer's test classes (the resident step's CudaTrainStepParityTest and CudaBatchGradientsTest),
# ETTh1.csv and train-on-device.sh. Output: $1, default target/device-bundle (≤ 64 MiB with the working tree),
# which the device `run` call names in `carry`.
#   SM90=1  put fatbins built for sm_90 only into the bundle's ssm-kernels jar (the full sm_80+sm_90+PTX fatbins no
#           longer fit the 64 MiB carry limit next to the runtime); SCAN_FATBIN=path / TRAIN_FATBIN=path reuse
#           sm_90 builds of selective_scan.cu / train_step.cu instead of compiling them (minutes on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:-"--sun-misc-unsafe-memory-access=allow"}
ett=${ETT_CSV:-/work/shared/datasets/ett/ETTh1.csv}
bundle=${1:-target/device-bundle}
source bench/gpu/train-bundle.sh
jre=$(train_runtime)
if [[ -z ${SKIP_BUILD:-} ]]; then
  mvn -B -q -o -pl app -am package -DskipTests
  mvn -B -q -o -pl ssm-kernels,trainer test-compile
  mvn -B -q -o -pl ssm-kernels dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$root/target/test-classpath.txt"
fi
rm -rf "$bundle"
mkdir -p "$bundle/test-lib" "$bundle/data"
train_jars_and_cli "$bundle"
if [[ -n ${SM90:-} ]]; then
  fat=$(mktemp -d)
  mkdir -p "$fat/io/sidewinder/ssm/kernels/cuda"
  dst=$fat/io/sidewinder/ssm/kernels/cuda
  src=ssm-kernels/src/main/cuda
  if [[ -n ${SCAN_FATBIN:-} ]]; then cp "$SCAN_FATBIN" "$dst/sidewinder-kernels.fatbin"
  else nvcc -fatbin -O3 -gencode arch=compute_90,code=sm_90 -o "$dst/sidewinder-kernels.fatbin" $src/selective_scan.cu; fi
  if [[ -n ${TRAIN_FATBIN:-} ]]; then cp "$TRAIN_FATBIN" "$dst/sidewinder-train.fatbin"
  else nvcc -fatbin -O3 -gencode arch=compute_90,code=sm_90 -o "$dst/sidewinder-train.fatbin" $src/train_step.cu; fi
  kjar=$(ls "$bundle"/lib/sidewinder-ssm-kernels-*.jar)
  kjar=$(cd "$(dirname "$kjar")" && pwd)/$(basename "$kjar")
  (cd "$fat" && "$JAVA_HOME/bin/jar" uf "$kjar" io/sidewinder/ssm/kernels/cuda/sidewinder-kernels.fatbin \
      io/sidewinder/ssm/kernels/cuda/sidewinder-train.fatbin)
  rm -rf "$fat"
  echo "fatbins in the bundle: sm_90 only"
fi
cp -r ssm-kernels/target/test-classes "$bundle/test-classes"
cp -r trainer/target/test-classes "$bundle/trainer-test-classes"
tr ':' '\n' < target/test-classpath.txt | grep -E '/(junit-|opentest4j|apiguardian)' | xargs -I{} cp {} "$bundle/test-lib/"
cp "$ett" "$bundle/data/"
cp -r "$jre" "$bundle/jre"
cp bench/gpu/train-on-device.sh "$bundle/"
for f in sidewinder-kernels.fatbin sidewinder-train.fatbin; do
  unzip -l "$bundle"/lib/sidewinder-ssm-kernels-*.jar | grep -c $f >/dev/null || {
    echo "no $f in the ssm-kernels jar: is nvcc on the PATH?" >&2; exit 1; }
done
du -sh "$bundle"
