package io.sidewinder.kafka.embedded;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start, restart, close and failed start of the embedded broker. */
class BrokerLifecycleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void restartingOnTheSameLogDirKeepsClusterIdTopicsAndData(@TempDir Path logDir) throws Exception {
        String topic = "kept";
        int count = 100;
        String clusterId;
        try (EmbeddedKafkaBroker first = EmbeddedKafkaBroker.start(logDir)) {
            assertTrue(Files.exists(logDir.resolve("meta.properties")), "formatted on first start");
            first.createTopic(topic, 2, Map.of("retention.ms", "-1"));
            try (KafkaProducer<String, String> producer = Clients.idempotentProducer(first)) {
                Clients.sendAndCheck(producer, topic, "value-", count);
            }
            try (Admin admin = first.admin()) {
                clusterId = admin.describeCluster().clusterId().get();
            }
        }

        try (EmbeddedKafkaBroker second = EmbeddedKafkaBroker.start(logDir)) {
            try (Admin admin = second.admin()) {
                assertEquals(clusterId, admin.describeCluster().clusterId().get(), "not formatted again");
                assertTrue(admin.listTopics().names().get().contains(topic));
                assertEquals(2, admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());
            }
            // The same setup code can run again on a restart; a conflicting partition count is reported.
            assertDoesNotThrow(() -> second.createTopic(topic, 2, Map.of()));
            EmbeddedKafkaException conflict = assertThrows(EmbeddedKafkaException.class, () -> second.createTopic(topic, 3, Map.of()));
            assertTrue(conflict.getMessage().contains("2 partitions"), conflict.getMessage());

            try (KafkaConsumer<String, String> consumer = Clients.consumer(second, null, "read_committed")) {
                List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                List<ConsumerRecord<String, String>> received = new ArrayList<>();
                await().atMost(WAIT).until(() -> {
                    Clients.pollInto(consumer, received);
                    return received.size() >= count;
                });
                assertEquals(count, received.size());
            }
        }
    }

    @Test
    void overridesOfItsOwnAddressingAreRefusedAndTopicsAreBoundBySize(@TempDir Path logDir) throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> EmbeddedKafkaBroker.start(logDir, 0,
                Map.of("listeners", "PLAINTEXT://0.0.0.0:9092")));
        assertTrue(e.getMessage().contains("listeners"), e.getMessage());
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(logDir);
             Admin admin = Admin.create(kafka.adminConfig())) {
            kafka.createTopic("sized", 1, Map.of());
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "sized");
            var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals(String.valueOf(EmbeddedKafkaBroker.RETENTION_BYTES_PER_PARTITION),
                    config.get("retention.bytes").value(), "a long demo cannot fill the disk");
            assertEquals("-1", config.get("retention.ms").value(), "readings stamped long ago are kept");
        }
    }

    @Test
    void closeIsIdempotentAndReleasesTheBrokerPort(@TempDir Path logDir) throws Exception {
        EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(logDir);
        int port = kafka.brokerPort();
        kafka.close();
        assertDoesNotThrow(kafka::close);
        assertThrows(IllegalStateException.class, kafka::admin);
        try (ServerSocket socket = new ServerSocket(port, 0, InetAddress.getByName(EmbeddedKafkaBroker.HOST))) {
            assertEquals(port, socket.getLocalPort());
        }
    }

    @Test
    void startOnABusyFixedPortFailsClearlyAndLeavesTheLogDirUsable(@TempDir Path logDir) throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 0, InetAddress.getByName(EmbeddedKafkaBroker.HOST))) {
            EmbeddedKafkaException failure = assertThrows(EmbeddedKafkaException.class,
                    () -> EmbeddedKafkaBroker.start(logDir, busy.getLocalPort()));
            assertTrue(failure.getMessage().contains("failed to bind to " + EmbeddedKafkaBroker.HOST + ":" + busy.getLocalPort()),
                    failure.getMessage());
            assertTrue(failure.getMessage().contains("attempt 1"), "a busy fixed port is not retried: " + failure.getMessage());
        }
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(logDir)) {
            kafka.createTopic("after-failed-start", 1, Map.of());
        }
    }
}
