package io.sidewinder.processors;

import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/** Topics, producers and read_committed consumers for pipeline tests against a real in-process broker. */
final class PipelineHarness implements AutoCloseable {
    static final ModelConfig MODEL = ModelConfig.defaults(2).withShape(16, 2, 8, 4);

    final EmbeddedKafkaBroker broker;
    final String prefix;
    final KafkaProducer<byte[], byte[]> producer;

    PipelineHarness(EmbeddedKafkaBroker broker, String prefix) {
        this.broker = broker;
        this.prefix = prefix;
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    SidewinderConfig config(Path stateDir, Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>();
        p.put(SidewinderConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(SidewinderConfig.APPLICATION_ID, prefix + "-app");
        p.put(SidewinderConfig.STATE_DIR, stateDir.toString());
        p.put(SidewinderConfig.INPUT_TOPICS, prefix + "-readings");
        p.put(SidewinderConfig.FORECASTS_TOPIC, prefix + "-forecasts");
        p.put(SidewinderConfig.ANOMALIES_TOPIC, prefix + "-anomalies");
        p.put(SidewinderConfig.DEAD_LETTER_TOPIC, prefix + "-dead-letters");
        p.put(SidewinderConfig.MODELS_TOPIC, prefix + "-models");
        p.put(SidewinderConfig.TOPIC_PARTITIONS, 2);
        p.put(SidewinderConfig.HTTP_PORT, -1);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 50);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        // A closed instance does not leave the group: its restarted successor waits out the session, at the broker's
        // minimum here instead of the default 45 s.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1_000);
        p.putAll(extra);
        return new SidewinderConfig(p);
    }

    static ModelParameters params(long seed) {
        return ModelParameters.initialise(MODEL, seed);
    }

    ModelSnapshot publish(SidewinderConfig c, ModelParameters params, long version) throws Exception {
        ModelSnapshot s = ModelSnapshots.toSnapshot(params, c.getString(SidewinderConfig.MODEL_ID), version, Map.of(), Map.of());
        publishRaw(c, ModelRegistry.key(s.getModelId(), version), AvroSerdes.modelSnapshot().serialize(null, s));
        return s;
    }

    void publishRaw(SidewinderConfig c, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(c.getString(SidewinderConfig.MODELS_TOPIC), key.getBytes(StandardCharsets.UTF_8),
                value)).get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    static byte[] reading(String id, long t, float... values) {
        List<Float> v = new ArrayList<>();
        for (float f : values) v.add(f);
        return AvroSerdes.sensorReading().serialize(null, SensorReading.newBuilder().setSensorId(id)
                .setEventTime(Instant.ofEpochMilli(t)).setValues(v).build());
    }

    void send(SidewinderConfig c, String key, byte[] value, long timestamp) throws Exception {
        producer.send(new ProducerRecord<>(c.inputTopics().getFirst(), null, timestamp,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), value)).get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** A read_committed consumer of one topic from the beginning. */
    KafkaConsumer<byte[], byte[]> consumer(String topic) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, prefix + "-reader-" + topic + "-" + System.nanoTime());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of(topic));
        return c;
    }

    static void drain(KafkaConsumer<byte[], byte[]> c, List<ConsumerRecord<byte[], byte[]>> into) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
            into.add(r);
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
