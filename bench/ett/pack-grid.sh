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
jre=target/device-jre-train
if [[ ! -x $jre/bin/java ]]; then
  rm -rf "$jre"
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.unsupported,java.xml,java.naming \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$jre"
fi
[[ -n ${SKIP_BUILD:-} ]] || mvn -B -q -o -pl app -am package -DskipTests
rm -rf "$bundle"
mkdir -p "$bundle/lib" "$bundle/data" "$bundle/cli"
cp app/target/sidewinder-app.jar "$bundle/"
for j in sidewinder-schemas sidewinder-ssm-kernels sidewinder-trainer sidewinder-evaluation sidewinder-processors \
         picocli slf4j-api logback-classic logback-core avro jackson-core jackson-databind jackson-annotations; do
  cp app/target/lib/$j-[0-9]*.jar "$bundle/lib/"
done
kjar=$(cd "$bundle/lib" && pwd)/$(cd "$bundle/lib" && ls sidewinder-ssm-kernels-*.jar)
strip=$(mktemp -d)
(cd "$strip" && "$JAVA_HOME/bin/jar" xf "$kjar" && find . -name '*.fatbin' -delete && rm -f "$kjar" \
  && "$JAVA_HOME/bin/jar" cfm "$kjar" META-INF/MANIFEST.MF $(ls | grep -v META-INF))
rm -rf "$strip"
"$JAVA_HOME/bin/javac" --release 25 -d "$bundle/cli" \
  -cp "app/target/sidewinder-app.jar:$(ls "$bundle"/lib/*.jar | tr '\n' ':')" bench/gpu/DeviceCli.java
for f in ETTh1 ETTm1; do gzip -9 -c "$ett/$f.csv" > "$bundle/data/$f.csv.gz"; done
cp -r "$jre" "$bundle/jre"
cp bench/ett/grid-on-device.sh "$bundle/"
du -sh "$bundle"
