#!/usr/bin/env bash
# Packs what the GPU machine needs to run the CUDA tests and benchmark (it has CUDA but no Java):
# a jlink'ed Java 25 runtime (~44 MiB, kept between packs), ssm-kernels' classes with the fatbin, its test
# classes and the few jars they load (JUnit, slf4j, logback; no RocksDB/Kafka/Avro), and run-on-device.sh.
# Output: ssm-kernels' ignored target/device-bundle, which the device `run` call names in `carry`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:-"--sun-misc-unsafe-memory-access=allow"}
bundle=target/device-bundle
jre=target/device-jre
if [[ ! -x $jre/bin/java ]]; then
  rm -rf "$jre"
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.unsupported \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$jre"
fi
mvn -B -q -o -pl ssm-kernels test-compile
mvn -B -q -o -pl ssm-kernels dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$root/target/test-classpath.txt"
rm -rf "$bundle"
mkdir -p "$bundle/lib"
cp -r ssm-kernels/target/classes "$bundle/classes"
cp -r ssm-kernels/target/test-classes "$bundle/test-classes"
tr ':' '\n' < target/test-classpath.txt | grep -E '/(junit-|opentest4j|apiguardian|slf4j-api|logback-)' \
  | xargs -I{} cp {} "$bundle/lib/"
cp -r "$jre" "$bundle/jre"
cp bench/gpu/run-on-device.sh "$bundle/"
test -f "$bundle/classes/io/sidewinder/ssm/kernels/cuda/sidewinder-kernels.fatbin" || {
  echo "no fatbin in the classes: is nvcc on the PATH?" >&2; exit 1; }
du -sh "$bundle"
