package io.sidewinder.app.train;

import io.sidewinder.processors.ModelRegistry;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.InvalidModelException;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Champion/challenger publishing to the compacted models topic: the challenger is published, as the champion's
 * version + 1, only when its validation MSE beats the champion's (the highest valid version of the model id),
 * both scored on the challenger's validation data when the trainer passes a {@link Referee}.
 */
public final class ModelPublisher {
    public static final String METRIC = "val_mse";

    /** What was decided; {@code snapshot} is what was published (the challenger as champion + 1), or null. */
    public record Decision(boolean published, long version, Double championMse, double challengerMse, String reason,
                           ModelSnapshot snapshot) {
        Decision(boolean published, long version, Double championMse, double challengerMse, String reason) {
            this(published, version, championMse, challengerMse, reason, null);
        }
    }

    private final KafkaClientSettings client;
    private final String topic;

    public ModelPublisher(String bootstrap, String topic) {
        this(KafkaClientSettings.bootstrap(bootstrap), topic);
    }

    public ModelPublisher(KafkaClientSettings client, String topic) {
        this(client, topic, null);
    }

    /** With a signature (may be null), the published snapshot is signed and only signed snapshots are champions. */
    public ModelPublisher(KafkaClientSettings client, String topic, io.sidewinder.ssm.SnapshotSignature signature) {
        this.client = client;
        this.topic = topic;
        this.signature = signature;
    }

    private final io.sidewinder.ssm.SnapshotSignature signature;

    /**
     * The highest version of a model id on the topic that passes validation. The log is read as the stream's
     * global store sees it: the latest value per key, and a key whose latest value is a tombstone is gone.
     */
    public Optional<ModelSnapshot> champion(String modelId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p = client.with(p);
        Map<String, byte[]> latest = new HashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicSnapshot.read(c, topic, TopicHistory.STALL, r -> {
                if (r.key() == null || !r.key().startsWith(modelId + "/")) return;
                if (r.value() == null) {
                    latest.remove(r.key());
                } else {
                    latest.put(r.key(), r.value());
                }
            });
        }
        var decoder = AvroSerdes.modelSnapshot().deserializer();
        ModelSnapshot best = null;
        for (byte[] value : latest.values()) {
            try {
                ModelSnapshot s = decoder.deserialize(topic, value);
                ModelSnapshots.toParameters(s); // only valid snapshots can be champions
                if (signature != null && signature.problem(s) != null) continue;   // nor ones the stream would refuse
                if (modelId.equals(s.getModelId()) && (best == null || s.getVersion() > best.getVersion())) best = s;
            } catch (RuntimeException invalid) {
                // a rejected snapshot never served, so it is not the champion
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The models topic must exist and be compacted: a topic auto-created by a publish (delete policy, 7 days of
     * retention) would lose every model a week later, and the stream would then serve nothing.
     */
    void requireCompactedTopic() throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(client.with(Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000)))) {
            if (!admin.listTopics().names().get().contains(topic)) {
                throw new IllegalStateException("models topic '" + topic + "' does not exist: create it with "
                        + "cleanup.policy=compact (`sidewinder run --create-topics` does)");
            }
            String policy = io.sidewinder.processors.SidewinderApp.notCompacted(admin, topic);
            if (policy != null) {
                throw new IllegalStateException("models topic '" + topic + "' has cleanup.policy=" + policy
                        + ": models would expire with its retention; it must be compacted");
            }
        }
    }

    /** Scores a model on the challenger's validation windows, through the forecast the stream serves. */
    @FunctionalInterface
    public interface Referee {
        double validationMse(ModelParameters model);
    }

    /** Publishes the challenger when its recorded val_mse beats the champion's (see the refereed overload). */
    public Decision offer(ModelSnapshot challenger) throws Exception {
        return offer(challenger, null, false);
    }

    /**
     * Publishes the challenger, as the champion's version + 1, when it beats the champion. With a referee both are
     * scored on the challenger's own validation windows (recorded metrics come from other data and other
     * protocols, so they do not compare); without one, the recorded val_mse are compared. Models that forecast a
     * different horizon or read a different channel count are not compared at all: the challenger is kept back
     * unless {@code force}.
     */
    public Decision offer(ModelSnapshot challenger, Referee referee, boolean force) throws Exception {
        Double mse = challenger.getMetrics().get(METRIC);
        if (mse == null || !Double.isFinite(mse)) {
            throw new InvalidModelException("the challenger has no finite " + METRIC + " metric to compare");
        }
        requireCompactedTopic();
        Optional<ModelSnapshot> champ = champion(challenger.getModelId());
        if (champ.isPresent() && champ.get().getVersion() == Long.MAX_VALUE) {
            throw new IllegalStateException("the champion on " + topic + " has version " + Long.MAX_VALUE
                    + ": no version can follow it (was it published by someone else? sign models to refuse such)");
        }
        long version = champ.map(c -> c.getVersion() + 1).orElse(1L);
        Double champMse = null;
        String reason;
        if (champ.isEmpty()) {
            reason = "no champion yet";
        } else if (force) {
            reason = "forced over champion v" + champ.get().getVersion();
        } else {
            long v = champ.get().getVersion();
            ModelParameters champion = ModelSnapshots.toParameters(champ.get());
            ModelParameters candidate = ModelSnapshots.toParameters(challenger);
            String incomparable = incomparable(champion.config(), candidate.config());
            if (incomparable == null && referee != null) {
                try {
                    champMse = referee.validationMse(champion);
                    mse = referee.validationMse(candidate);
                } catch (RuntimeException e) {
                    incomparable = "the champion cannot be scored on the challenger's validation data (" + e.getMessage() + ")";
                }
            } else if (incomparable == null) {
                champMse = champ.get().getMetrics().get(METRIC);
            }
            if (incomparable != null) {
                return new Decision(false, v, null, mse, "not compared with champion v" + v + ": " + incomparable
                        + "; publish under another model id, or force it");
            }
            if (!Double.isFinite(mse)) {
                return new Decision(false, v, champMse, mse, "the challenger scores " + mse
                        + (referee != null ? " on its own validation data" : "") + "; champion v" + v + " kept");
            }
            if (champMse != null && mse >= champMse) {
                return new Decision(false, v, champMse, mse, "champion v" + v + " has " + METRIC + " " + champMse
                        + " <= " + mse + (referee != null ? " on the challenger's validation data" : ""));
            }
            reason = "beats champion v" + v + " (" + METRIC + " " + champMse + " > " + mse
                    + (referee != null ? " on the challenger's validation data)" : ")");
        }
        ModelSnapshot toPublish = ModelSnapshot.newBuilder(challenger).setVersion(version).build();
        if (signature != null) toPublish = signature.sign(toPublish);   // the version is signed: sign it as published
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p = client.with(p);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, ModelRegistry.key(toPublish.getModelId(), version),
                    AvroSerdes.modelSnapshot().serialize(topic, toPublish))).get();
        }
        return new Decision(true, version, champMse, mse, reason, toPublish);
    }

    /** Why two models' validation errors do not compare, or null when they do. */
    static String incomparable(ModelConfig champion, ModelConfig challenger) {
        if (champion.horizon() != challenger.horizon()) {
            return "it forecasts " + champion.horizon() + " steps, the challenger " + challenger.horizon();
        }
        if (champion.channels() != challenger.channels()) {
            return "it reads " + champion.channels() + " channels, the challenger " + challenger.channels();
        }
        return null;
    }
}
