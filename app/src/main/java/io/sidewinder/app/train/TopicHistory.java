package io.sidewinder.app.train;

import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.trainer.data.SensorHistories;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a readings topic's history for training: every partition from its first offset to its end offset at the
 * time of the call, and nothing written after it (read_committed; {@link TopicSnapshot}), keeping readings whose event time is in [from, to); undecodable records are
 * skipped and counted (the stream dead-letters them).
 */
public final class TopicHistory {
    private TopicHistory() {}

    public record Result(SensorHistories histories, long records, long undecodable) {}

    /** How long the read may go without advancing any partition before it gives up. */
    static final Duration STALL = Duration.ofSeconds(60);

    public static Result read(String bootstrap, String topic, Instant from, Instant to) {
        return read(KafkaClientSettings.bootstrap(bootstrap), topic, from, to);
    }

    public static Result read(KafkaClientSettings client, String topic, Instant from, Instant to) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Retention deleting the oldest segment mid-read must move the consumer to the new log start, not the end.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p = client.with(p);
        SensorHistories h = new SensorHistories();
        long records = 0, bad = 0;
        var decoder = AvroSerdes.sensorReading().deserializer();
        long[] counts = new long[2];   // records, undecodable
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicSnapshot.read(c, topic, STALL, r -> {
                counts[0]++;
                SensorReading reading;
                try {
                    reading = decoder.deserialize(topic, r.value());
                } catch (RuntimeException e) {
                    counts[1]++;
                    return;
                }
                if (reading == null) {
                    counts[1]++;
                    return;
                }
                Instant t = reading.getEventTime();
                if (!t.isBefore(from) && t.isBefore(to)) {
                    h.add(reading);
                }
            });
        }
        records = counts[0];
        bad = counts[1];
        return new Result(h, records, bad);
    }
}
