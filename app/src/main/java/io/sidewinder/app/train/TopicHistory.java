package io.sidewinder.app.train;

import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.trainer.data.SensorHistories;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a readings topic's history for training: every partition from its first offset to its end offset at the
 * time of the call (read_committed), keeping readings whose event time is in [from, to); undecodable records are
 * skipped and counted (the stream dead-letters them).
 */
public final class TopicHistory {
    private TopicHistory() {}

    public record Result(SensorHistories histories, long records, long undecodable) {}

    /** How long the read may go without advancing any partition before it gives up. */
    static final Duration STALL = Duration.ofSeconds(60);

    public static Result read(String bootstrap, String topic, Instant from, Instant to) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Retention deleting the oldest segment mid-read must move the consumer to the new log start, not the end.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        SensorHistories h = new SensorHistories();
        long records = 0, bad = 0;
        var decoder = AvroSerdes.sensorReading().deserializer();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var infos = c.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException("topic '" + topic + "' does not exist");
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long lastProgress = System.nanoTime(), lastPositions = -1;
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                long positions = parts.stream().mapToLong(c::position).sum();
                if (positions != lastPositions) {
                    lastPositions = positions;
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > STALL.toNanos()) {
                    throw new IllegalStateException("reading '" + topic + "' made no progress for " + STALL.toSeconds()
                            + " s (partitions behind: " + parts.stream().filter(tp -> c.position(tp) < end.get(tp)).toList()
                            + "); is a partition offline?");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    records++;
                    SensorReading reading;
                    try {
                        reading = decoder.deserialize(topic, r.value());
                    } catch (RuntimeException e) {
                        bad++;
                        continue;
                    }
                    if (reading == null) {
                        bad++;
                        continue;
                    }
                    Instant t = reading.getEventTime();
                    if (!t.isBefore(from) && t.isBefore(to)) {
                        h.add(reading);
                    }
                }
            }
        }
        return new Result(h, records, bad);
    }
}
