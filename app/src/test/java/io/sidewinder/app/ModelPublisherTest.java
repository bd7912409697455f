package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.app.train.ModelPublisher;
import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.processors.ModelRegistry;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPublisherTest {

    static ModelSnapshot challenger(double valMse) {
        return challenger(valMse, 2, 1);
    }

    static ModelSnapshot challenger(double valMse, int horizon, long seed) {
        return ModelSnapshots.toSnapshot(ModelParameters.initialise(ModelConfig.defaults(1).withShape(8, 1, 4, horizon), seed),
                "pumps", 1, Map.of(), Map.of(ModelPublisher.METRIC, valMse));
    }

    @Test
    void theRefereeScoresBothOnTheChallengersDataAndOtherHorizonsAreNotCompared(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            broker.createTopic("models", 1, Map.of("cleanup.policy", "compact"));
            ModelPublisher publisher = new ModelPublisher(broker.bootstrapServers(), "models");
            assertTrue(publisher.offer(challenger(0.50, 2, 1)).published());
            // Recorded 0.10 looks better, but on the challenger's own validation data the champion (seed 1) wins.
            ModelParameters seed1 = ModelSnapshots.toParameters(challenger(0, 2, 1));
            String name = seed1.all().getFirst().name();
            ModelPublisher.Referee referee = m -> java.util.Arrays.equals(m.data(name), seed1.data(name)) ? 0.2 : 0.3;
            var refereed = publisher.offer(challenger(0.10, 2, 2), referee, false);
            assertFalse(refereed.published(), refereed.reason());
            assertEquals(0.2, refereed.championMse());
            assertEquals(0.3, refereed.challengerMse());

            var nan = publisher.offer(challenger(0.01, 2, 6), m -> java.util.Arrays.equals(m.data(name), seed1.data(name))
                    ? 0.2 : Double.NaN, false);
            assertFalse(nan.published(), "a challenger scoring NaN never beats the champion: " + nan.reason());

            var otherHorizon = publisher.offer(challenger(0.01, 4, 3), referee, false);
            assertFalse(otherHorizon.published(), otherHorizon.reason());
            assertTrue(otherHorizon.reason().contains("forecasts 2 steps, the challenger 4"), otherHorizon.reason());
            var forced = publisher.offer(challenger(0.01, 4, 3), referee, true);
            assertTrue(forced.published(), forced.reason());
            assertEquals(2, forced.version());
        }
    }

    @Test
    void onlyAChallengerThatBeatsTheChampionIsPublishedAsTheNextVersion(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            broker.createTopic("models", 1, Map.of("cleanup.policy", "compact"));
            ModelPublisher publisher = new ModelPublisher(broker.bootstrapServers(), "models");
            var first = publisher.offer(challenger(0.50));
            assertTrue(first.published());
            assertEquals(1, first.version());
            var worse = publisher.offer(challenger(0.55));
            assertFalse(worse.published(), worse.reason());
            // A corrupt higher version on the topic never served, so it is not the champion.
            try (var p = new KafkaProducer<>(broker.adminConfig(), new StringSerializer(), new ByteArraySerializer())) {
                p.send(new ProducerRecord<>("models", ModelRegistry.key("pumps", 7), "junk".getBytes(StandardCharsets.UTF_8))).get();
            }
            var better = publisher.offer(challenger(0.40));
            assertTrue(better.published(), better.reason());
            assertEquals(2, better.version());
            assertEquals(2, better.snapshot().getVersion());
            assertEquals(2, publisher.champion("pumps").orElseThrow().getVersion());
            assertEquals(0.40, publisher.champion("pumps").orElseThrow().getMetrics().get(ModelPublisher.METRIC));
            // A tombstone retracts v2 on the stream (ModelRegistry.retract): v1 is the champion again.
            try (var p = new KafkaProducer<>(broker.adminConfig(), new StringSerializer(), new ByteArraySerializer())) {
                p.send(new ProducerRecord<>("models", ModelRegistry.key("pumps", 2), null)).get();
            }
            assertEquals(1, publisher.champion("pumps").orElseThrow().getVersion());
        }
    }

    @Test
    void aMissingOrNonCompactedModelsTopicIsRefused(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            broker.createTopic("plain", 1, Map.of());
            broker.createTopic("both", 1, Map.of("cleanup.policy", "compact,delete"));
            var both = assertThrows(IllegalStateException.class,
                    () -> new ModelPublisher(broker.bootstrapServers(), "both").offer(challenger(0.5)));
            assertTrue(both.getMessage().contains("compact,delete"), both.getMessage());
            var missing = assertThrows(IllegalStateException.class,
                    () -> new ModelPublisher(broker.bootstrapServers(), "nope").offer(challenger(0.5)));
            assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
            var plain = assertThrows(IllegalStateException.class,
                    () -> new ModelPublisher(broker.bootstrapServers(), "plain").offer(challenger(0.5)));
            assertTrue(plain.getMessage().contains("cleanup.policy=delete"), plain.getMessage());
        }
    }
}
