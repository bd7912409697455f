package io.sidewinder.kafka.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Client helpers shared by the tests. */
final class Clients {

    private Clients() {
    }

    static KafkaProducer<String, String> idempotentProducer(EmbeddedKafkaBroker kafka) {
        return new KafkaProducer<>(producerConfig(kafka), new StringSerializer(), new StringSerializer());
    }

    static KafkaProducer<String, String> transactionalProducer(EmbeddedKafkaBroker kafka, String transactionalId) {
        Map<String, Object> config = producerConfig(kafka);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    private static Map<String, Object> producerConfig(EmbeddedKafkaBroker kafka) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return config;
    }

    static KafkaConsumer<String, String> consumer(EmbeddedKafkaBroker kafka, String groupId, String isolationLevel) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        if (groupId != null) {
            config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        return new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
    }

    /** Sends {@code count} records keyed key-i / value prefix-i and checks every send result. */
    static List<RecordMetadata> sendAndCheck(KafkaProducer<String, String> producer, String topic, String prefix, int count)
            throws Exception {
        List<Future<RecordMetadata>> sends = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            sends.add(producer.send(new ProducerRecord<>(topic, "key-" + i, prefix + i)));
        }
        producer.flush();
        List<RecordMetadata> acks = new ArrayList<>(count);
        for (Future<RecordMetadata> send : sends) {
            acks.add(send.get(30, TimeUnit.SECONDS));
        }
        return acks;
    }

    /** One poll, appending what came back; used inside Awaitility conditions. */
    static void pollInto(KafkaConsumer<String, String> consumer, List<ConsumerRecord<String, String>> sink) {
        consumer.poll(Duration.ofMillis(200)).forEach(sink::add);
    }
}
