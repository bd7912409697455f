package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.app.train.KafkaClientSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kafka client settings of train's topic reader and publisher (a secured cluster needs them). */
class KafkaClientSettingsTest {

    @Test
    void aRunConfigFileGivesItsClientSettingsAndLeavesOutTheStreamsAndSidewinderKeys(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("sidewinder.properties"), """
                bootstrap.servers=broker-1:9093
                security.protocol=SASL_SSL
                sasl.mechanism=PLAIN
                ssl.truststore.location=/etc/kafka/truststore.jks
                application.id=sidewinder-prod
                state.dir=/var/lib/sidewinder
                processing.guarantee=exactly_once_v2
                sidewinder.model.id=pumps
                topic.min.insync.replicas=2
                num.standby.replicas=1
                consumer.max.poll.records=100
                rocksdb.config.setter=com.example.Setter
                client.id=trainer
                """);
        Map<String, Object> p = KafkaClientSettings.load(file, Map.of(), null).with(Map.of());
        assertEquals("broker-1:9093", p.get("bootstrap.servers"));
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals("PLAIN", p.get("sasl.mechanism"));
        assertEquals("/etc/kafka/truststore.jks", p.get("ssl.truststore.location"));
        assertEquals("trainer", p.get("client.id"), "a setting the clients share is kept");
        for (String streamsOnly : new String[] {"application.id", "state.dir", "processing.guarantee", "sidewinder.model.id",
                "topic.min.insync.replicas", "num.standby.replicas", "consumer.max.poll.records", "rocksdb.config.setter"}) {
            assertFalse(p.containsKey(streamsOnly), streamsOnly + " is not a client setting");
        }
    }

    @Test
    void theEnvironmentOverridesTheFileAndTheFlagOverridesBoth(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("client.properties"),
                "bootstrap.servers=from-file:9092\nsasl.mechanism=PLAIN\n");
        Map<String, String> env = Map.of("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", "KAFKA_BOOTSTRAP_SERVERS", "from-env:9092",
                "SIDEWINDER_MODEL_ID", "not-a-client-setting");
        var fromEnv = KafkaClientSettings.load(file, env, null);
        assertEquals("from-env:9092", fromEnv.bootstrapServers());
        assertEquals("SCRAM-SHA-512", fromEnv.with(Map.of()).get("sasl.mechanism"));
        assertEquals(2, fromEnv.with(Map.of()).size(), "only the two client settings: " + fromEnv.with(Map.of()));
        assertEquals("from-flag:9092", KafkaClientSettings.load(file, env, "from-flag:9092").bootstrapServers());
        assertEquals("localhost:9092", KafkaClientSettings.load(null, Map.of(), null).bootstrapServers());
    }

    @Test
    void theReadersOwnSettingsWinOverTheUsers(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("client.properties"), "isolation.level=read_uncommitted\nclient.id=me\n");
        Map<String, Object> p = KafkaClientSettings.load(file, Map.of(), null).with(Map.of("isolation.level", "read_committed"));
        assertEquals("read_committed", p.get("isolation.level"), "an aborted transaction's readings must not train a model");
        assertEquals("me", p.get("client.id"));
    }

    @Test
    void aValueTheClientsWouldRefuseIsRefusedWhenTheSettingsAreRead(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("client.properties"), "security.protocol=NOPE\n");
        var e = assertThrows(IllegalArgumentException.class, () -> KafkaClientSettings.load(file, Map.of(), null));
        assertTrue(e.getMessage().contains("security.protocol"), e.getMessage());
    }

    @Test
    void aMissingFileIsAnErrorNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope.properties");
        var e = assertThrows(IllegalArgumentException.class, () -> KafkaClientSettings.load(missing, Map.of(), null));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
