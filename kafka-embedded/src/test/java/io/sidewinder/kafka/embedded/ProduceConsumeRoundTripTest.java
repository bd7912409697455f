package io.sidewinder.kafka.embedded;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.internals.Exit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Records go through one shared embedded broker: plain idempotent, and transactional with read_committed. */
class ProduceConsumeRoundTripTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path logDir;

    private static EmbeddedKafkaBroker kafka;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafkaBroker.start(logDir);
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void idempotentProducerWritesRecordsToThreePartitionsThatAGroupConsumerReadsBack() throws Exception {
        String topic = "readings";
        int count = 1_000;
        kafka.createTopic(topic, 3, Map.of());

        try (Admin admin = kafka.admin()) {
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            assertEquals(3, description.partitions().size());
            description.partitions().forEach(p -> assertTrue(p.leader() != null && !p.leader().isEmpty(), "leader of " + p));
        }

        List<RecordMetadata> acks;
        try (KafkaProducer<String, String> producer = Clients.idempotentProducer(kafka)) {
            acks = Clients.sendAndCheck(producer, topic, "value-", count);
        }
        assertEquals(Set.of(0, 1, 2), acks.stream().map(RecordMetadata::partition).collect(Collectors.toSet()),
                "keys spread over all three partitions");

        List<ConsumerRecord<String, String>> received = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(kafka, "round-trip", "read_committed")) {
            consumer.subscribe(List.of(topic));
            await().atMost(WAIT).until(() -> {
                Clients.pollInto(consumer, received);
                return received.size() >= count;
            });
            consumer.commitSync();
        }
        assertEquals(count, received.size());
        assertEquals(expectedValues("value-", count), received.stream().map(ConsumerRecord::value).collect(Collectors.toSet()));
        received.forEach(r -> assertEquals(r.key().substring("key-".length()), r.value().substring("value-".length())));
    }

    @Test
    void readCommittedConsumerSeesCommittedTransactionsButNotAbortedOnes() throws Exception {
        String topic = "tx-readings";
        int committed = 500;
        int aborted = 100;
        kafka.createTopic(topic, 3, Map.of());

        try (KafkaProducer<String, String> producer = Clients.transactionalProducer(kafka, "round-trip-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            Clients.sendAndCheck(producer, topic, "committed-", committed);
            producer.commitTransaction();

            producer.beginTransaction();
            Clients.sendAndCheck(producer, topic, "aborted-", aborted);
            producer.abortTransaction();
        }

        List<String> committedView = readAllToEnd(topic, "read_committed");
        assertEquals(committed, committedView.size(), "read_committed sees exactly the committed records");
        assertEquals(expectedValues("committed-", committed), new HashSet<>(committedView));

        List<String> uncommittedView = readAllToEnd(topic, "read_uncommitted");
        assertEquals(committed + aborted, uncommittedView.size(), "the aborted records were written, then aborted");
    }

    @Test
    void kafkaRequestsToHaltTheJvmThrowWhileABrokerIsOpen() {
        EmbeddedKafkaException refused = assertThrows(EmbeddedKafkaException.class, () -> Exit.halt(1, "test fault"));
        assertTrue(refused.getMessage().contains("halt"), refused.getMessage());
        assertThrows(EmbeddedKafkaException.class, () -> Exit.exit(1));
    }

    /** Reads every partition from the beginning until the consumer's position reaches the end offsets. */
    private static List<String> readAllToEnd(String topic, String isolationLevel) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(kafka, null, isolationLevel)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, String>> received = new ArrayList<>();
            await().atMost(WAIT).until(() -> {
                Clients.pollInto(consumer, received);
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
            });
            return received.stream().map(ConsumerRecord::value).toList();
        }
    }

    private static Set<String> expectedValues(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).collect(Collectors.toSet());
    }
}
