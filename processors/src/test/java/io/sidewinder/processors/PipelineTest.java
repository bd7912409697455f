package io.sidewinder.processors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.schemas.AnomalyScore;
import io.sidewinder.schemas.DeadLetter;
import io.sidewinder.schemas.Forecast;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.StreamState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline against a real in-process KRaft broker, with exactly-once processing. */
class PipelineTest {
    static EmbeddedKafkaBroker broker;

    @TempDir
    static Path brokerDir;

    @TempDir
    Path stateDir;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start(brokerDir.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    static long[] times(int n, long seed) {
        long[] t = new long[n];
        long now = System.currentTimeMillis() - 3_600_000L;
        for (int i = 0; i < n; i++) {
            now += 400 + ((i * 7919L + seed) % 2600);
            t[i] = now;
        }
        return t;
    }

    static float[][] values(int n) {
        float[][] v = new float[n][2];
        for (int i = 0; i < n; i++) {
            v[i][0] = (float) (50 + 5 * Math.sin(i * 0.2));
            v[i][1] = (float) (1 + 0.1 * Math.cos(i * 0.05));
        }
        return v;
    }

    static Forecast forecast(ConsumerRecord<byte[], byte[]> r) {
        return AvroSerdes.forecast().deserialize(r.topic(), r.value());
    }

    /** Waits until a consumer has seen n records of a topic. */
    static List<ConsumerRecord<byte[], byte[]>> collect(KafkaConsumer<byte[], byte[]> c, int n) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            PipelineHarness.drain(c, out);
            return out.size() >= n;
        });
        return out;
    }

    static void assertForecastsMatch(Forecaster.Prediction expected, Forecast actual, String what) {
        for (int i = 0; i < expected.mean().length; i++) {
            double e = expected.mean()[i], a = actual.getMean().get(i);
            assertTrue(Math.abs(e - a) <= 1e-3 + 3e-4 * Math.abs(e), what + " mean[" + i + "]: " + a + " vs " + e);
            double es = expected.stddev()[i], as = actual.getStddev().get(i);
            assertTrue(Math.abs(es - as) <= 1e-3 + 3e-4 * Math.abs(es), what + " stddev[" + i + "]: " + as + " vs " + es);
        }
    }

    @Test
    void streamedForecastsEqualTheBatchForwardOfTheSameSequence() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "parity")) {
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.HTTP_PORT, 0));
            SidewinderApp.createTopics(c);
            ModelParameters params = PipelineHarness.params(1);
            h.publish(c, params, 1);
            int n = 300;
            long[] t = times(n, 1);
            float[][] v = values(n);
            try (SidewinderApp app = new SidewinderApp(c).start();
                 KafkaConsumer<byte[], byte[]> out = h.consumer(c.getString(SidewinderConfig.FORECASTS_TOPIC))) {
                assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 0; i < n; i++) {
                    h.send(c, "s1", PipelineHarness.reading("s1", t[i], v[i]), t[i]);
                }
                List<ConsumerRecord<byte[], byte[]>> got = collect(out, n);
                assertEquals(n, got.size());
                Forecaster.Prediction[] batch = new Forecaster(new MambaModel(params))
                        .forwardSequence(StreamState.fresh(params.config()), t, v);
                for (int i = 0; i < n; i++) {
                    Forecast f = forecast(got.get(i));
                    assertEquals(t[i], f.getEventTime().toEpochMilli());
                    assertEquals(1L, f.getModelVersion());
                    assertForecastsMatch(batch[i], f, "reading " + i);
                }
                assertHttpApiShowsTheSensor(app, n);
                // Streams stopping (a rolling restart) while the HTTP API still answers: try again later, not 500.
                app.streams().close(java.time.Duration.ofSeconds(30));
                assertEquals(503, httpStatus(app, "/sensors/s1"));
            }
        }
    }

    static int httpStatus(SidewinderApp app, String path) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + app.httpPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** The read-only HTTP API: a sensor's latest state, 404 for unknown ones, Prometheus metrics, health. */
    static void assertHttpApiShowsTheSensor(SidewinderApp app, int readings) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        java.util.function.Function<String, java.net.http.HttpResponse<String>> get = path -> {
            try {
                return client.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://localhost:" + app.httpPort() + path)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        var sensor = get.apply("/sensors/s1");
        assertEquals(200, sensor.statusCode(), sensor.body());
        assertTrue(sensor.body().contains("\"sensorId\":\"s1\"") && sensor.body().contains("\"modelVersion\":1")
                && sensor.body().contains("\"forecast\":{\"mean\":["), sensor.body());
        assertEquals(404, get.apply("/sensors/unknown").statusCode());
        var metrics = get.apply("/metrics");
        assertTrue(metrics.body().contains("sidewinder_readings_total " + readings + ".0"), metrics.body());
        assertTrue(metrics.body().contains("sidewinder_model_version 1.0"));
        assertTrue(metrics.body().contains("sidewinder_records_in_total " + readings + ".0"), metrics.body());
        assertTrue(metrics.body().contains("jvm_memory_used_bytes"), "the JVM's meters");
        assertTrue(metrics.body().contains("kafka_stream_"), "Kafka Streams' own meters");
        assertEquals(200, get.apply("/health").statusCode());
    }

    @Test
    void aMissingOutputOrModelsTopicIsRefusedAtStartNamingIt() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "missing")) {
            SidewinderConfig c = h.config(stateDir, Map.of());
            SidewinderApp.createTopics(c);
            try (var admin = broker.admin()) {
                admin.deleteTopics(List.of(c.getString(SidewinderConfig.DEAD_LETTER_TOPIC),
                        c.getString(SidewinderConfig.MODELS_TOPIC))).all().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> new SidewinderApp(c).start());
            assertTrue(e.getMessage().contains("topics [missing-dead-letters, missing-models] do not exist"), e.getMessage());
            assertTrue(e.getMessage().contains("cleanup.policy=compact"), e.getMessage());
        }
    }

    @Test
    void inputTopicsOfDifferentPartitionCountsAreRefusedAtStart() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "copart")) {
            broker.createTopic("copart-a", 2, Map.of());
            broker.createTopic("copart-b", 3, Map.of());
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.INPUT_TOPICS, "copart-a,copart-b"));
            SidewinderApp.createTopics(c);   // the outputs and the models topic; the inputs keep their counts
            try (SidewinderApp app = new SidewinderApp(c)) {
                var e = assertThrows(IllegalStateException.class, app::start);
                assertTrue(e.getMessage().contains("{copart-a=2, copart-b=3}"), e.getMessage());
            }
        }
    }

    @Test
    void badInputOfEveryKindIsDeadLetteredWithItsReasonAndTheAppKeepsRunning() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "bad")) {
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.HTTP_PORT, 0));
            SidewinderApp.createTopics(c);
            try (SidewinderApp app = new SidewinderApp(c).start();
                 KafkaConsumer<byte[], byte[]> dead = h.consumer(c.getString(SidewinderConfig.DEAD_LETTER_TOPIC));
                 KafkaConsumer<byte[], byte[]> out = h.consumer(c.getString(SidewinderConfig.FORECASTS_TOPIC))) {
                assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                long now = System.currentTimeMillis();
                h.send(c, "s1", PipelineHarness.reading("s1", now - 10_000, 1f, 2f), now); // before any model
                List<ConsumerRecord<byte[], byte[]>> letters = collect(dead, 1);
                assertEquals("NO_MODEL", AvroSerdes.deadLetter().deserialize("d", letters.getFirst().value()).getReason());
                assertEquals(200, httpStatus(app, "/health"), "alive");
                assertEquals(503, httpStatus(app, "/ready"), "not ready without a model");
                h.publish(c, PipelineHarness.params(2), 1);
                await().atMost(Duration.ofSeconds(30)).until(() -> app.models().current() != null);
                assertEquals(200, httpStatus(app, "/ready"));
                h.send(c, "s1", PipelineHarness.reading("s1", now - 5_000, 1f, 2f), now);                  // good
                h.send(c, "s1", "garbage".getBytes(StandardCharsets.UTF_8), now);                            // UNDECODABLE
                h.send(c, "s1", PipelineHarness.reading("s1", now - 4_000, Float.NaN, 2f), now);           // NON_FINITE
                h.send(c, "s1", PipelineHarness.reading("s1", now - 4_000, 1f, 2f, 3f), now);              // WRONG_CHANNEL_COUNT
                h.send(c, "s1", PipelineHarness.reading("s1", now + 86_400_000L, 1f, 2f), now);            // FUTURE_TIMESTAMP
                h.send(c, "s1", PipelineHarness.reading("s1", now - 9_000, 1f, 2f), now);                  // OUT_OF_ORDER
                h.send(c, "other", PipelineHarness.reading("s1", now - 3_000, 1f, 2f), now);               // KEY_MISMATCH
                h.send(c, "s1", PipelineHarness.reading("", now - 3_000, 1f, 2f), now);                    // MISSING_SENSOR_ID
                h.send(c, "s1", PipelineHarness.reading("s1", now - 2_000, 1f, 2.5f), now);                // good
                PipelineHarness.drain(dead, letters);
                letters.addAll(collect(dead, 8 - letters.size()));
                Set<String> reasons = new HashSet<>();
                for (ConsumerRecord<byte[], byte[]> r : letters) {
                    DeadLetter d = AvroSerdes.deadLetter().deserialize(r.topic(), r.value());
                    reasons.add(d.getReason());
                    assertEquals(c.inputTopics().getFirst(), d.getSourceTopic());
                    assertTrue(d.getSourceOffset() >= 0 && !d.getError().isBlank(), d.toString());
                    assertTrue(d.getValue() != null && d.getValue().remaining() > 0, "raw bytes kept");
                }
                assertEquals(Set.of("NO_MODEL", "UNDECODABLE", "NON_FINITE", "WRONG_CHANNEL_COUNT", "FUTURE_TIMESTAMP",
                        "OUT_OF_ORDER", "KEY_MISMATCH", "MISSING_SENSOR_ID"), reasons);
                List<ConsumerRecord<byte[], byte[]>> forecasts = collect(out, 2);
                assertEquals(2, forecasts.size(), "both good readings were processed");
                assertEquals(KafkaStreams.State.RUNNING, app.streams().state());
                assertEquals(8.0, app.metrics().deadLetters());
            }
        }
    }

    @Test
    void aNewModelIsServedWithStatesRebuiltWarmAndACorruptOneIsRejected() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "swap")) {
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.RING_BUFFER_SIZE, 32));
            SidewinderApp.createTopics(c);
            // v2 is an ensemble of two (train --members 2): a new shape of per-key state, served like any model
            ModelParameters v1 = PipelineHarness.params(3);
            ModelParameters v2 = ModelParameters.ensemble(List.of(PipelineHarness.params(4), PipelineHarness.params(6)));
            h.publish(c, v1, 1);
            int n = 120;
            long[] t = times(n, 3);
            float[][] v = values(n);
            try (SidewinderApp app = new SidewinderApp(c).start();
                 KafkaConsumer<byte[], byte[]> out = h.consumer(c.getString(SidewinderConfig.FORECASTS_TOPIC))) {
                assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 0; i < 80; i++) {
                    h.send(c, "s1", PipelineHarness.reading("s1", t[i], v[i]), t[i]);
                }
                List<ConsumerRecord<byte[], byte[]>> got = collect(out, 80);
                // A corrupt v3: valid encoding, wrong checksum. It must be rejected and v1 keep serving.
                var bad = io.sidewinder.ssm.ModelSnapshots.toSnapshot(PipelineHarness.params(5), "default", 3, Map.of(), Map.of());
                bad.setChecksum("00" + bad.getChecksum().substring(2));
                h.publishRaw(c, ModelRegistry.key("default", 3), AvroSerdes.modelSnapshot().serialize(null, bad));
                h.publishRaw(c, ModelRegistry.key("default", 4), "not a snapshot".getBytes(StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(30)).until(() -> app.models().rejectedCount() == 2);
                assertEquals(1L, app.models().current().version());
                h.publish(c, v2, 2);
                // v4 was rejected, so v2 (lower than the rejected number, higher than v1) is what should serve.
                await().atMost(Duration.ofSeconds(30)).until(() -> app.models().current().version() == 2L);
                for (int i = 80; i < n; i++) {
                    h.send(c, "s1", PipelineHarness.reading("s1", t[i], v[i]), t[i]);
                }
                PipelineHarness.drain(out, got);
                got.addAll(collect(out, n - got.size()));
                Forecast firstAfterSwap = forecast(got.get(80));
                assertEquals(2L, firstAfterSwap.getModelVersion());
                assertEquals(1.0, app.metrics().rebuilds(PipelineMetrics.RebuildCause.MODEL_SWAP));
                // Warm: the new model replayed the last 32 readings before applying reading 80.
                Forecaster f2 = new Forecaster(new MambaModel(v2));
                StreamState s = StreamState.fresh(v2.config());
                Forecaster.Prediction p = null;
                for (int i = 80 - 32; i <= 80; i++) {
                    p = f2.advance(s, t[i], v[i]);
                }
                assertForecastsMatch(p, firstAfterSwap, "first forecast after the swap");
            }
        }
    }

    @Test
    void readingsOutOfOrderWithinTheGraceAreAppliedInEventTimeOrderAndABufferedOneSurvivesARestartOnce() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "grace")) {
            // A grace of 60 s: no wall-clock flush (60 s of silence) can happen during the test, so which reading is
            // buffered at each point is decided by the event times alone.
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.REORDER_GRACE_MS, 60_000L));
            SidewinderApp.createTopics(c);
            h.publish(c, PipelineHarness.params(8), 1);
            long t0 = System.currentTimeMillis() - 3_600_000L;
            try (KafkaConsumer<byte[], byte[]> out = h.consumer(c.getString(SidewinderConfig.FORECASTS_TOPIC))) {
                List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
                try (SidewinderApp app = new SidewinderApp(c).start()) {
                    assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                    for (long s : new long[] {10, 12, 11, 80}) {   // 11 arrives late; 80 moves stream time past 12 + 60
                        h.send(c, "s1", PipelineHarness.reading("s1", t0 + 1_000 * s, s, -s), t0 + 1_000 * s);
                    }
                    // 10, 11 and 12 are released only once 80 moved stream time, so 80 sits in the buffer by now,
                    // committed with them (read_committed: these forecasts are visible only after that commit).
                    got.addAll(collect(out, 3));
                }
                // Wipe the local state: the buffered reading of 80 s must come back from the changelog.
                try (var files = java.nio.file.Files.walk(stateDir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
                try (SidewinderApp app = new SidewinderApp(c).start()) {
                    assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                    h.send(c, "s1", PipelineHarness.reading("s1", t0 + 150_000, 150f, -150f), t0 + 150_000);
                    got.addAll(collect(out, 1));
                }
                PipelineHarness.drain(out, got);
                List<Long> seconds = got.stream().map(r -> (forecast(r).getEventTime().toEpochMilli() - t0) / 1_000).toList();
                // In event-time order, each once; 150 s waits in the buffer for a later reading.
                assertEquals(List.of(10L, 11L, 12L, 80L), seconds);
            }
        }
    }

    @Test
    void aRestartRestoresStateFromTheChangelogWithNoDuplicateAndNoGap() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "restart")) {
            SidewinderConfig c = h.config(stateDir, Map.of());
            SidewinderApp.createTopics(c);
            ModelParameters params = PipelineHarness.params(6);
            h.publish(c, params, 1);
            int n = 200;
            long[] t = times(n, 6);
            float[][] v = values(n);
            try (KafkaConsumer<byte[], byte[]> out = h.consumer(c.getString(SidewinderConfig.FORECASTS_TOPIC))) {
                List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
                try (SidewinderApp app = new SidewinderApp(c).start()) {
                    assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                    for (int i = 0; i < 100; i++) {
                        h.send(c, "s1", PipelineHarness.reading("s1", t[i], v[i]), t[i]);
                    }
                    got.addAll(collect(out, 100));
                }
                // Wipe local state: the second instance must restore it from the changelog.
                try (var files = java.nio.file.Files.walk(stateDir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
                try (SidewinderApp app = new SidewinderApp(c).start()) {
                    assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                    for (int i = 100; i < n; i++) {
                        h.send(c, "s1", PipelineHarness.reading("s1", t[i], v[i]), t[i]);
                    }
                    PipelineHarness.drain(out, got);
                    got.addAll(collect(out, n - got.size()));
                }
                // The app is closed, its last transaction committed: a duplicate would be readable by now, so the
                // count must hold while the topic is read for a while longer.
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> {
                    PipelineHarness.drain(out, got);
                    return got.size() == n;
                });
                assertEquals(n, got.size(), "one forecast per reading: no duplicate, no gap");
                Forecaster.Prediction[] reference = new Forecaster(new MambaModel(params))
                        .forwardSequence(StreamState.fresh(params.config()), t, v);
                for (int i = 0; i < n; i++) {
                    Forecast f = forecast(got.get(i));
                    assertEquals(t[i], f.getEventTime().toEpochMilli(), "forecast " + i + " in order");
                    assertForecastsMatch(reference[i], f, "reading " + i);
                }
            }
        }
    }

    @Test
    void anomalyScoresCarryTheModelVersionAndLikelihoodsInTheUnitInterval() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "scores")) {
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.ANOMALY_WARMUP, 50));
            SidewinderApp.createTopics(c);
            h.publish(c, PipelineHarness.params(7), 5);
            int n = 150;
            long[] t = times(n, 7);
            float[][] v = values(n);
            v[120][0] += 500; // a spike far outside anything seen
            try (SidewinderApp app = new SidewinderApp(c).start();
                 KafkaConsumer<byte[], byte[]> scores = h.consumer(c.getString(SidewinderConfig.ANOMALIES_TOPIC))) {
                assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 0; i < n; i++) {
                    h.send(c, "s1", PipelineHarness.reading("s1", t[i], v[i]), t[i]);
                }
                List<ConsumerRecord<byte[], byte[]>> got = collect(scores, n - 1);
                int flaggedBeforeWarmup = 0;
                boolean spikeFlagged = false;
                for (ConsumerRecord<byte[], byte[]> r : got) {
                    AnomalyScore s = AvroSerdes.anomalyScore().deserialize(r.topic(), r.value());
                    assertEquals(5L, s.getModelVersion());
                    assertTrue(s.getLikelihood() >= 0 && s.getLikelihood() <= 1);
                    long i = java.util.Arrays.binarySearch(t, s.getEventTime().toEpochMilli());
                    if (i < 51 && s.getFlagged()) flaggedBeforeWarmup++;
                    if (i == 120) spikeFlagged = s.getFlagged();
                }
                assertEquals(0, flaggedBeforeWarmup, "nothing is flagged during warm-up");
                assertTrue(spikeFlagged, "a 100-sigma spike is flagged");
            }
        }
    }

    @Test
    void aUnivariateModelServesSensorsOfAnyShapeAndScoresExactlyAsTheOfflineDetector() throws Exception {
        try (PipelineHarness h = new PipelineHarness(broker, "shapes")) {
            SidewinderConfig c = h.config(stateDir, Map.of(SidewinderConfig.ANOMALY_WARMUP, 10, SidewinderConfig.DEVIATION_REFERENCE, 20));
            SidewinderApp.createTopics(c);
            ModelParameters univariate = ModelParameters.initialise(ModelConfig.defaults(1).withShape(16, 2, 8, 4), 9);
            h.publish(c, univariate, 1);
            int n = 60;
            long[] t = times(n, 3);
            float[][] wide = new float[n][], narrow = new float[n][];
            for (int i = 0; i < n; i++) {
                wide[i] = new float[] {(float) Math.sin(i * 0.3), 100 + i, (float) (i % 7)};
                narrow[i] = new float[] {(float) Math.cos(i * 0.1)};
            }
            wide[45][1] += 80;
            try (SidewinderApp app = new SidewinderApp(c).start();
                 KafkaConsumer<byte[], byte[]> scores = h.consumer(c.getString(SidewinderConfig.ANOMALIES_TOPIC))) {
                assertTrue(app.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 0; i < n; i++) {
                    h.send(c, "wide", PipelineHarness.reading("wide", t[i], wide[i]), t[i]);
                    h.send(c, "narrow", PipelineHarness.reading("narrow", t[i], narrow[i]), t[i]);
                }
                List<ConsumerRecord<byte[], byte[]>> got = collect(scores, 2 * (n - 1));
                SensorDetector offline = new SensorDetector(new Forecaster(new MambaModel(univariate)), AnomalyScorer.from(c),
                        BaselineDeviation.from(c), KeyCadence.Mode.MODEL);
                Map<String, float[][]> sent = Map.of("wide", wide, "narrow", narrow);
                for (String id : sent.keySet()) {
                    SensorDetector.State state = offline.newState(sent.get(id)[0].length);
                    List<AnomalyScore> streamed = got.stream().map(r -> AvroSerdes.anomalyScore().deserialize(r.topic(), r.value()))
                            .filter(s -> s.getSensorId().equals(id)).toList();
                    assertEquals(n - 1, streamed.size());
                    int deviating = 0;
                    for (int i = 0; i < n; i++) {
                        SensorDetector.Observation o = offline.observe(state, t[i], sent.get(id)[i]);
                        AnomalyScorer.Score expected = o.score();
                        if (i == 0) continue;
                        AnomalyScore actual = streamed.get(i - 1);
                        assertEquals(t[i], actual.getEventTime().toEpochMilli());
                        assertEquals(expected.likelihood(), actual.getLikelihood(), 1e-6, id + " reading " + i);
                        assertEquals(expected.flagged(), actual.getFlagged(), id + " reading " + i);
                        assertEquals(o.deviation().score(), actual.getDeviation(), 1e-12, id + " reading " + i);
                        assertEquals(o.deviation().deviating(), actual.getDeviating(), id + " reading " + i);
                        if (actual.getDeviating()) deviating++;
                    }
                    // The wide sensor's second channel climbs steadily past everything its baseline saw.
                    if (id.equals("wide")) assertTrue(deviating > 20, deviating + " deviating readings");
                }
            }
        }
    }
}
