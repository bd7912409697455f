package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sidewinder.app.train.TopicHistory;
import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training data from a readings topic (train --data kafka:topic), on the in-process broker. */
class TopicHistoryTest {

    private static byte[] reading(String id, long t, float v) {
        return AvroSerdes.sensorReading().serialize("t", SensorReading.newBuilder().setSensorId(id)
                .setEventTime(Instant.ofEpochMilli(t)).setValues(List.of(v)).build());
    }

    @Test
    void aTopicIsReadPerSensorInEventTimeOrderWithinTheRangeAndBadRecordsAreCounted(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            broker.createTopic("readings", 3, Map.of());
            try (var p = new KafkaProducer<>(broker.adminConfig(), new ByteArraySerializer(), new ByteArraySerializer())) {
                // a's readings arrive out of order; b has one before the range and one at its (exclusive) end
                long[][] sends = {{1, 3_000}, {1, 1_000}, {1, 2_000}, {2, 500}, {2, 1_500}, {2, 10_000}};
                for (long[] s : sends) {
                    String id = s[0] == 1 ? "a" : "b";
                    p.send(new ProducerRecord<>("readings", id.getBytes(StandardCharsets.UTF_8),
                            reading(id, s[1], s[1] / 1000f))).get();
                }
                p.send(new ProducerRecord<>("readings", "a".getBytes(StandardCharsets.UTF_8),
                        "not avro".getBytes(StandardCharsets.UTF_8))).get();
            }
            var r = TopicHistory.read(broker.bootstrapServers(), "readings", Instant.ofEpochMilli(1_000),
                    Instant.ofEpochMilli(10_000));
            assertEquals(7, r.records());
            assertEquals(1, r.undecodable());
            var series = r.histories().series();
            assertEquals(List.of("a", "b"), List.copyOf(series.keySet()));
            assertArrayEquals(new long[] {1_000, 2_000, 3_000}, series.get("a").times());
            assertArrayEquals(new long[] {1_500}, series.get("b").times());
            assertEquals(1.5f, series.get("b").values()[0][0]);
        }
    }

    @Test
    void aMissingTopicIsAnErrorNamingIt(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> TopicHistory.read(broker.bootstrapServers(),
                    "nope", Instant.EPOCH, Instant.ofEpochMilli(Long.MAX_VALUE)));
            assertEquals("topic 'nope' does not exist", e.getMessage());
        }
    }
}
