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
import java.util.List;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka client settings of the CLI's own clients (the topic history reader, the champion's reader, the model
 * publisher): a properties file, then {@code KAFKA_X_Y} environment variables, then {@code --bootstrap-servers}, as
 * {@code run} reads its settings. A cluster that needs TLS or SASL ({@code security.protocol}, {@code ssl.*},
 * {@code sasl.*}) is reached with the same file the stream's {@code run --config} uses: the keys only Sidewinder or
 * Kafka Streams read (and Streams' prefixed client and topic keys) are left out here, and the rest is checked as the
 * clients will check it.
 */
public final class KafkaClientSettings {
    static final String DEFAULT_BOOTSTRAP = "localhost:9092";

    /** Prefixes of a {@code run --config} file's keys for Streams' own clients and internal topics. */
    private static final List<String> STREAMS_PREFIXES = List.of(StreamsConfig.TOPIC_PREFIX,
            StreamsConfig.CONSUMER_PREFIX, StreamsConfig.MAIN_CONSUMER_PREFIX, StreamsConfig.RESTORE_CONSUMER_PREFIX,
            StreamsConfig.GLOBAL_CONSUMER_PREFIX, StreamsConfig.PRODUCER_PREFIX, StreamsConfig.ADMIN_CLIENT_PREFIX);

    /** A key only Sidewinder or Kafka Streams reads (application.id, state.dir, …): no client of ours needs it. */
    static boolean streamsOnly(String key) {
        if (key.startsWith("sidewinder.") || STREAMS_PREFIXES.stream().anyMatch(key::startsWith)) return true;
        return StreamsConfig.configDef().names().contains(key) && !ProducerConfig.configNames().contains(key)
                && !ConsumerConfig.configNames().contains(key) && !AdminClientConfig.configNames().contains(key);
    }

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
        p.keySet().removeIf(KafkaClientSettings::streamsOnly);
        if (bootstrapServers != null) {
            p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        }
        p.putIfAbsent(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, DEFAULT_BOOTSTRAP);
        validate(p);
        return new KafkaClientSettings(p);
    }

    /** Checks the values as the clients will (an unknown security.protocol, a malformed number), before any work. */
    private static void validate(Map<String, Object> p) {
        Map<String, Object> consumer = new HashMap<>(p), producer = new HashMap<>(p);
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try {
            new ConsumerConfig(consumer);
            new ProducerConfig(producer);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
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
