package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidewinderConfigTest {

    @Test
    void fileThenEnvironmentThenFlagsEachOverrideTheOneBefore(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sidewinder.properties");
        Files.writeString(file, """
                bootstrap.servers=file:9092
                sidewinder.forecasts.topic=from-file
                sidewinder.anomalies.topic=from-file
                sidewinder.input.topics=a,b
                num.stream.threads=3
                """);
        SidewinderConfig c = SidewinderConfig.load(file,
                Map.of("SIDEWINDER_ANOMALIES_TOPIC", "from-env", "KAFKA_BOOTSTRAP_SERVERS", "env:9092",
                        "SIDEWINDER_JAVA_OPTS", "-Xmx1g", "PATH", "/bin"),
                Map.of(SidewinderConfig.BOOTSTRAP_SERVERS, "flag:9092"));
        assertEquals("from-file", c.getString(SidewinderConfig.FORECASTS_TOPIC));
        assertEquals("from-env", c.getString(SidewinderConfig.ANOMALIES_TOPIC));
        assertEquals(List.of("flag:9092"), c.getList(SidewinderConfig.BOOTSTRAP_SERVERS));
        assertEquals(List.of("a", "b"), c.inputTopics());
        Properties streams = c.streamsProperties();
        assertEquals("flag:9092", streams.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertEquals("3", streams.get(StreamsConfig.NUM_STREAM_THREADS_CONFIG), "unknown keys pass through to Streams");
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, streams.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertTrue(!streams.containsKey(SidewinderConfig.FORECASTS_TOPIC), "our keys stay ours");
    }

    @Test
    void theGlobalProcessingHandlerOptInReachesTheAssignorsConfigToo() {
        Properties streams = new SidewinderConfig(Map.of()).streamsProperties();
        assertEquals(true, streams.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG));
        // StreamsPartitionAssignor builds its StreamsConfig from the main consumer's configs: without the flag there
        // it logs "Processing exception handler is not enabled for the GlobalThread" on every start.
        Map<String, Object> consumer = new StreamsConfig(streams).getMainConsumerConfigs("group", "client", 0);
        assertEquals(true, consumer.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG));
    }

    @Test
    void aBadValueIsRefusedNamingTheKey() {
        var e = assertThrows(ConfigException.class,
                () -> new SidewinderConfig(Map.of(SidewinderConfig.ANOMALY_THRESHOLD, "2.0")));
        assertTrue(e.getMessage().contains(SidewinderConfig.ANOMALY_THRESHOLD), e.getMessage());
        assertThrows(ConfigException.class, () -> new SidewinderConfig(Map.of(SidewinderConfig.PROCESSING_GUARANTEE, "maybe")));
    }

    @Test
    void everySettingIsDocumented() {
        String doc = SidewinderConfig.documentation();
        for (String name : SidewinderConfig.definition().names()) {
            assertTrue(doc.contains("`" + name + "`"), name);
        }
        SidewinderConfig.definition().configKeys().values()
                .forEach(k -> assertTrue(k.documentation != null && k.documentation.length() > 10, k.name));
    }

    @Test
    void theStartupLineSaysWhatTheInstanceDoesButNoClientSecret() {
        SidewinderConfig c = new SidewinderConfig(java.util.Map.of(SidewinderConfig.MODEL_ID, "pumps",
                SidewinderConfig.REORDER_GRACE_MS, 2_000L, "sasl.jaas.config", "secret-password-123"));
        String line = SidewinderApp.startupSummary(c);
        org.junit.jupiter.api.Assertions.assertTrue(line.contains("model 'pumps'") && line.contains("reorder grace 2000 ms"),
                line);
        org.junit.jupiter.api.Assertions.assertFalse(line.contains("secret-password-123"), line);
    }

    @Test
    void launcherVariablesAreNotTakenForSettings() {
        Map<String, String> got = SidewinderConfig.fromEnvironment(Map.of("SIDEWINDER_DEBUG", "1",
                "SIDEWINDER_JAVA_OPTS", "-Xmx1g", "SIDEWINDER_LOG_LEVEL", "DEBUG", "SIDEWINDER_MODEL_ID", "pumps"));
        assertEquals(Map.of("sidewinder.model.id", "pumps"), got);
    }

    @Test
    void aReorderGraceUnderAtLeastOnceIsRefusedBecauseACrashCouldLoseBufferedReadings() {
        var e = assertThrows(ConfigException.class, () -> new SidewinderConfig(Map.of(SidewinderConfig.REORDER_GRACE_MS,
                5_000L, SidewinderConfig.PROCESSING_GUARANTEE, StreamsConfig.AT_LEAST_ONCE)));
        assertTrue(e.getMessage().contains("exactly_once_v2"), e.getMessage());
        new SidewinderConfig(Map.of(SidewinderConfig.PROCESSING_GUARANTEE, StreamsConfig.AT_LEAST_ONCE));   // no grace
        new SidewinderConfig(Map.of(SidewinderConfig.REORDER_GRACE_MS, 5_000L));                           // EOS
    }

    @Test
    void aMisspeltSidewinderSettingIsRefusedWithTheNearestKnownOne() {
        var e = assertThrows(ConfigException.class,
                () -> new SidewinderConfig(Map.of("sidewinder.reorder.grace", 5_000L)));
        assertTrue(e.getMessage().contains("unknown setting sidewinder.reorder.grace (did you mean sidewinder.reorder.grace.ms?)"),
                e.getMessage());
        new SidewinderConfig(Map.of("linger.ms", "5"));   // other keys pass through to Kafka
        // The environment holds variables nobody set for Sidewinder: left out, not fatal.
        assertEquals(Map.of("sidewinder.model.id", "pumps"), SidewinderConfig.fromEnvironment(Map.of(
                "SIDEWINDER_SERVICE_HOST", "10.0.0.1", "SIDEWINDER_PORT_8080_TCP", "tcp://10.0.0.1:8080",
                "SIDEWINDER_MODEL_ID", "pumps")));
    }

    @Test
    void kafkaScriptVariablesOfTheShellAreNotTakenForClientSettings() {
        assertEquals(Map.of("security.protocol", "SSL"), SidewinderConfig.fromEnvironment(Map.of(
                "KAFKA_HEAP_OPTS", "-Xmx1g", "KAFKA_OPTS", "-Djava.security.auth.login.config=/etc/jaas.conf",
                "KAFKA_SECURITY_PROTOCOL", "SSL")));
    }

    @Test
    void topicsCreatedWithThreeReplicasNeedTwoInSyncUnlessTheInternalTopicsSettingSaysOtherwise() {
        assertEquals(Map.of(), SidewinderApp.createdTopicConfigs(new SidewinderConfig(Map.of())), "one broker: no minimum");
        assertEquals(Map.of("min.insync.replicas", "2"), SidewinderApp.createdTopicConfigs(new SidewinderConfig(Map.of(
                SidewinderConfig.TOPIC_REPLICATION, "3"))));
        assertEquals(Map.of("min.insync.replicas", "3"), SidewinderApp.createdTopicConfigs(new SidewinderConfig(Map.of(
                SidewinderConfig.TOPIC_REPLICATION, "5", "topic.min.insync.replicas", "3"))));
    }

    @Test
    void aModelSigningKeyIsOptionalMustBeLongEnoughAndNeverShowsInTheStartupLine() {
        assertEquals(null, new SidewinderConfig(Map.of()).modelSignature());
        String key = "a shared key of at least thirty-two bytes";
        SidewinderConfig signed = new SidewinderConfig(Map.of(SidewinderConfig.MODEL_SIGNING_KEY, key));
        assertTrue(signed.modelSignature() != null);
        String line = SidewinderApp.startupSummary(signed);
        assertTrue(line.contains("signed models required") && !line.contains(key), line);
        var e = assertThrows(ConfigException.class,
                () -> new SidewinderConfig(Map.of(SidewinderConfig.MODEL_SIGNING_KEY, "short")).modelSignature());
        assertTrue(e.getMessage().contains("at least 32 bytes"), e.getMessage());
        // A Secret that failed to mount: refused at start instead of serving unsigned models.
        var missing = assertThrows(ConfigException.class, () -> new SidewinderConfig(Map.of(
                SidewinderConfig.MODEL_SIGNING_REQUIRED, "true", SidewinderConfig.MODEL_SIGNING_KEY, " ")));
        assertTrue(missing.getMessage().contains("is empty"), missing.getMessage());
    }
}
