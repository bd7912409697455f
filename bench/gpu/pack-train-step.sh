#!/usr/bin/env bash
# Packs the device-resident training step's parity test and benchmark for the GPU machine (no Java there):
# the jlink'ed runtime (as pack-device.sh makes it), ssm-kernels' classes with both fatbins built for sm_90 only
# (the 64 MiB carry limit), ssm-kernels' test classes (DeviceTestMain), trainer's classes and test classes, the
# JUnit/slf4j/logback jars and run-train-step.sh. Usage: pack-train-step.sh OUTPUT_DIR
#   SCAN_FATBIN=path  reuse an sm_90 scan fatbin instead of compiling selective_scan.cu (minutes on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?output directory}
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:-"--sun-misc-unsafe-memory-access=allow"}
jre=target/device-jre
if [[ ! -x $jre/bin/java ]]; then
  rm -rf "$jre"
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.unsupported \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$jre"
fi
mvn -B -q -o -pl ssm-kernels,trainer test-compile
mvn -B -q -o -pl ssm-kernels dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$root/target/test-classpath.txt"
rm -rf "$out"
mkdir -p "$out/lib"
cp -r ssm-kernels/target/classes "$out/classes"
cp -r ssm-kernels/target/test-classes "$out/test-classes"
cp -r trainer/target/classes "$out/trainer-classes"
cp -r trainer/target/test-classes "$out/trainer-test-classes"
fat=$out/classes/io/sidewinder/ssm/kernels/cuda
src=ssm-kernels/src/main/cuda
if [[ -n ${SCAN_FATBIN:-} ]]; then
  cp "$SCAN_FATBIN" "$fat/sidewinder-kernels.fatbin"
else
  nvcc -fatbin -O3 -gencode arch=compute_90,code=sm_90 -o "$fat/sidewinder-kernels.fatbin" $src/selective_scan.cu
fi
nvcc -fatbin -O3 -gencode arch=compute_90,code=sm_90 -o "$fat/sidewinder-train.fatbin" $src/train_step.cu
tr ':' '\n' < target/test-classpath.txt | grep -E '/(junit-|opentest4j|apiguardian|slf4j-api|logback-)' \
  | xargs -I{} cp {} "$out/lib/"
cp -r "$jre" "$out/jre"
cp bench/gpu/run-train-step.sh bench/gpu/run-gpu-suite.sh "$out/"
du -sh "$out"
