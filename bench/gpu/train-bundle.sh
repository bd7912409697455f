# Sourced by pack-train.sh and ../ett/pack-grid.sh: the steps both bundles share. Expects JAVA_HOME and the
# repository root as the working directory.

# The jlink'ed Java 25 runtime the training CLI needs (java.xml and java.naming for logback's configuration), made
# once into target/device-jre-train and kept between packs.
train_runtime() {
  local jre=target/device-jre-train
  if [[ ! -x $jre/bin/java ]]; then
    rm -rf "$jre"
    "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.unsupported,java.xml,java.naming \
      --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$jre"
  fi
  echo "$jre"
}

# Into $1: the app jar, only the jars `train --data X.csv` and `eval forecast` load (the project's modules, picocli,
# logging, Avro for snapshots; no RocksDB, Kafka or Prometheus), and DeviceCli compiled against them in $1/cli.
train_jars_and_cli() {
  local bundle=$1
  mkdir -p "$bundle/lib" "$bundle/cli"
  cp app/target/sidewinder-app.jar "$bundle/"
  for j in sidewinder-schemas sidewinder-ssm-kernels sidewinder-trainer sidewinder-evaluation sidewinder-processors \
           picocli slf4j-api logback-classic logback-core avro jackson-core jackson-databind jackson-annotations; do
    cp app/target/lib/$j-[0-9]*.jar "$bundle/lib/"
  done
  "$JAVA_HOME/bin/javac" --release 25 -d "$bundle/cli" \
    -cp "app/target/sidewinder-app.jar:$(ls "$bundle"/lib/*.jar | tr '\n' ':')" bench/gpu/DeviceCli.java
}
