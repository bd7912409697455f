package io.sidewinder.app.train;

import io.sidewinder.processors.SidewinderConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The Kafka client settings of the CLI's own clients (the topic history reader, the champion's reader, the model
 * publisher): a properties file, then {@code KAFKA_X_Y} environment variables, then {@code --bootstrap-servers}, as
 * {@code run} reads its settings. A cluster that needs TLS or SASL ({@code security.protocol}, {@code ssl.*},
 * {@code sasl.*}) is reached with the same file the stream's {@code run --config} uses: the keys only Sidewinder or
 * Kafka Streams read are left out here.
 */
public final class KafkaClientSettings {
    static final String DEFAULT_BOOTSTRAP = "localhost:9092";

    /** Keys of a {@code run --config} file that configure Streams, not a client (sidewinder.* are left out too). */
    private static final Set<String> STREAMS_ONLY = Set.of("application.id", "state.dir", "processing.guarantee",
            "num.stream.threads", "num.standby.replicas", "commit.interval.ms", "replication.factor",
            "topology.optimization", "application.server");

    private final Map<String, Object> common;

    private KafkaClientSettings(Map<String, Object> common) {
        this.common = Map.copyOf(common);
    }

    /** Only the brokers: what tests and a plaintext cluster need. */
    public static KafkaClientSettings bootstrap(String bootstrapServers) {
        return new KafkaClientSettings(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /**
     * Settings from {@code file} (may be null), then the environment's {@code KAFKA_*} variables, then
     * {@code bootstrapServers} (may be null: the file's or the environment's, else localhost:9092).
     */
    public static KafkaClientSettings load(Path file, Map<String, String> env, String bootstrapServers) {
        Map<String, Object> p = new HashMap<>();
        if (file != null) {
            Properties props = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                props.load(in);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("Kafka client settings file " + file + " does not exist");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read Kafka client settings file " + file, e);
            }
            props.forEach((k, v) -> p.put(k.toString().trim(), v.toString().trim()));
        }
        p.putAll(SidewinderConfig.kafkaSettingsFromEnvironment(env));
        p.keySet().removeIf(k -> k.startsWith("sidewinder.") || STREAMS_ONLY.contains(k));
        if (bootstrapServers != null) {
            p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        }
        p.putIfAbsent(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, DEFAULT_BOOTSTRAP);
        return new KafkaClientSettings(p);
    }

    public String bootstrapServers() {
        return String.valueOf(common.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG));
    }

    /**
     * A client's properties: the user's settings, then {@code ours}, which win: they are what the reader or the
     * publisher relies on for correctness (read_committed, no topic auto-creation, acks=all).
     */
    public Map<String, Object> with(Map<String, Object> ours) {
        Map<String, Object> p = new HashMap<>(common);
        p.putAll(ours);
        return p;
    }
}
