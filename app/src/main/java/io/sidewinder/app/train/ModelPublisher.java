package io.sidewinder.app.train;

import io.sidewinder.processors.ModelRegistry;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.InvalidModelException;
import io.sidewinder.ssm.ModelSnapshots;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Champion/challenger publishing to the compacted models topic: the challenger is published, as the champion's
 * version + 1, only when its validation MSE beats the champion's (the highest valid version of the model id).
 */
public final class ModelPublisher {
    public static final String METRIC = "val_mse";

    public record Decision(boolean published, long version, Double championMse, double challengerMse, String reason) {}

    private final String bootstrap;
    private final String topic;

    public ModelPublisher(String bootstrap, String topic) {
        this.bootstrap = bootstrap;
        this.topic = topic;
    }

    /** The highest version of a model id on the topic that passes validation. */
    public Optional<ModelSnapshot> champion(String modelId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        ModelSnapshot best = null;
        var decoder = AvroSerdes.modelSnapshot().deserializer();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.value() == null || r.key() == null || !r.key().startsWith(modelId + "/")) continue;
                    try {
                        ModelSnapshot s = decoder.deserialize(topic, r.value());
                        ModelSnapshots.toParameters(s); // only valid snapshots can be champions
                        if (best == null || s.getVersion() > best.getVersion()) best = s;
                    } catch (RuntimeException invalid) {
                        // a rejected snapshot never served, so it is not the champion
                    }
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /** Publishes the challenger when it beats the champion; the snapshot's version is set to champion + 1. */
    public Decision offer(ModelSnapshot challenger) throws Exception {
        Double mse = challenger.getMetrics().get(METRIC);
        if (mse == null || !Double.isFinite(mse)) {
            throw new InvalidModelException("the challenger has no finite " + METRIC + " metric to compare");
        }
        Optional<ModelSnapshot> champ = champion(challenger.getModelId());
        Double champMse = champ.map(c -> c.getMetrics().get(METRIC)).orElse(null);
        long version = champ.map(c -> c.getVersion() + 1).orElse(1L);
        if (champ.isPresent() && champMse != null && mse >= champMse) {
            return new Decision(false, champ.get().getVersion(), champMse, mse,
                    "champion v" + champ.get().getVersion() + " has " + METRIC + " " + champMse + " <= " + mse);
        }
        ModelSnapshot toPublish = ModelSnapshot.newBuilder(challenger).setVersion(version).build();
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, ModelRegistry.key(toPublish.getModelId(), version),
                    AvroSerdes.modelSnapshot().serialize(topic, toPublish))).get();
        }
        return new Decision(true, version, champMse, mse, champ.isEmpty() ? "no champion yet"
                : "beats champion v" + champ.get().getVersion() + " (" + METRIC + " " + champMse + ")");
    }
}
