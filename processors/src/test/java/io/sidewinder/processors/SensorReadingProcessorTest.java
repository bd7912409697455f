package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sidewinder.schemas.DeadLetter;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sensor step's guards, fast, with TopologyTestDriver and MockProcessorContext. */
class SensorReadingProcessorTest {
    static final ModelConfig UNIVARIATE = ModelConfig.defaults(1).withShape(16, 2, 8, 4);

    @TempDir
    Path stateDir;

    private SidewinderConfig config(Map<String, Object> extra) {
        return config(stateDir, extra);
    }

    static SidewinderConfig config(Path stateDir, Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>();
        p.put(SidewinderConfig.STATE_DIR, stateDir.toString());
        p.put(SidewinderConfig.HTTP_PORT, -1);
        p.putAll(extra);
        return new SidewinderConfig(p);
    }

    /** A driver serving one univariate model, with the readings input and every output topic. */
    record Pipeline(TopologyTestDriver driver, TestInputTopic<String, byte[]> models, TestInputTopic<byte[], byte[]> in,
                            TestOutputTopic<byte[], byte[]> forecasts, TestOutputTopic<byte[], byte[]> anomalies,
                            TestOutputTopic<byte[], byte[]> dead, PipelineMetrics metrics) implements AutoCloseable {
        static Pipeline start(SidewinderConfig config) {
            ModelRegistry models = new ModelRegistry("default");
            PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry(), models);
            TopologyTestDriver driver = new TopologyTestDriver(SidewinderTopology.build(config, models, metrics),
                    config.streamsProperties());
            Pipeline p = new Pipeline(driver, driver.createInputTopic(config.getString(SidewinderConfig.MODELS_TOPIC),
                    new StringSerializer(), new ByteArraySerializer()),
                    driver.createInputTopic(config.inputTopics().getFirst(), new ByteArraySerializer(), new ByteArraySerializer()),
                    output(driver, config, SidewinderConfig.FORECASTS_TOPIC),
                    output(driver, config, SidewinderConfig.ANOMALIES_TOPIC),
                    output(driver, config, SidewinderConfig.DEAD_LETTER_TOPIC), metrics);
            p.publish(1, 3);
            return p;
        }

        /** Publishes the univariate model initialised with {@code seed} as {@code version} of model 'default'. */
        void publish(long version, long seed) {
            models.pipeInput(ModelRegistry.key("default", version), AvroSerdes.modelSnapshot().serialize(null,
                    ModelSnapshots.toSnapshot(ModelParameters.initialise(UNIVARIATE, seed), "default", version, Map.of(),
                            Map.of())));
        }

        /** A tombstone for {@code version}. */
        void retract(long version) {
            models.pipeInput(ModelRegistry.key("default", version), (byte[]) null);
        }

        private static TestOutputTopic<byte[], byte[]> output(TopologyTestDriver d, SidewinderConfig c, String key) {
            return d.createOutputTopic(c.getString(key), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        void send(String id, long t, float... values) {
            send(id, t, t, values);
        }

        /** A reading of event time t in a record stamped recordTime. */
        void send(String id, long t, long recordTime, float... values) {
            in.pipeInput(id.getBytes(StandardCharsets.UTF_8), PipelineHarness.reading(id, t, values), recordTime);
        }

        List<Long> forecastTimes() {
            return forecasts.readValuesToList().stream()
                    .map(v -> AvroSerdes.forecast().deserialize("f", v).getEventTime().toEpochMilli()).toList();
        }

        List<String> deadLetterReasons() {
            return dead.readValuesToList().stream().map(v -> AvroSerdes.deadLetter().deserialize("d", v).getReason()).toList();
        }

        @Override
        public void close() {
            driver.close();
        }
    }

    @Test
    void aReadingThatWouldOutgrowTheStateLimitIsDeadLetteredAndTheSensorsStateIsUntouched() {
        // One channel of this model takes a few KB of state; 64 channels take far more than 40 KB.
        try (Pipeline p = Pipeline.start(config(Map.of(SidewinderConfig.MAX_STATE_BYTES, 40_000)))) {
            long t = System.currentTimeMillis() - 60_000;
            p.send("small", t, 1f);
            p.send("wide", t, new float[64]);
            assertEquals(1, p.forecasts().readValuesToList().size(), "only the small sensor's forecast");
            assertEquals(0, p.anomalies().getQueueSize());
            DeadLetter d = AvroSerdes.deadLetter().deserialize("d", p.dead().readValue());
            assertEquals("STATE_TOO_LARGE", d.getReason());
            assertTrue(d.getError().contains("64 channels"), d.getError());
            KeyValueStore<String, byte[]> states = p.driver().getKeyValueStore(SidewinderTopology.STATE_STORE);
            assertNull(states.get("wide"), "nothing stored for the refused reading");

            p.send("small", t + 1_000, 2f);   // the stream goes on
            assertEquals(1, p.forecasts().readValuesToList().size());
        }
    }

    @Test
    void aReadingWithMoreChannelsThanAnyStateCouldHoldIsRefusedBeforeItsStateIsBuilt() {
        // A univariate model serves any channel count with one model state per channel: 250,000 channels would
        // take gigabytes before the state's size could be measured.
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            long t = System.currentTimeMillis() - 60_000;
            p.send("wide", t, new float[250_000]);
            DeadLetter d = AvroSerdes.deadLetter().deserialize("d", p.dead().readValue());
            assertEquals("STATE_TOO_LARGE", d.getReason());
            assertTrue(d.getError().contains("250000 channels would take at least"), d.getError());
            assertEquals(0, p.forecasts().getQueueSize());
        }
    }

    @Test
    void aStoredStateThatCannotBeReadCountsAsAnUnreadableStateNotAModelSwap() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            long t = System.currentTimeMillis() - 60_000;
            KeyValueStore<String, byte[]> states = p.driver().getKeyValueStore(SidewinderTopology.STATE_STORE);
            states.put("s1", new byte[] {99, 1, 2, 3});
            p.send("s1", t, 1f);
            assertEquals(1, p.forecasts().readValuesToList().size(), "the sensor starts afresh");
            assertEquals(1, p.metrics().rebuilds(PipelineMetrics.RebuildCause.STATE_UNREADABLE));
            assertEquals(0, p.metrics().rebuilds(PipelineMetrics.RebuildCause.MODEL_SWAP));
        }
    }

    @Test
    void theServedVersionRepublishedWithBytesThatCannotServeFallsBackAsARestartedInstanceWould() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            p.publish(2, 4);
            p.models().pipeInput(ModelRegistry.key("default", 2), "not a snapshot".getBytes(StandardCharsets.UTF_8));
            p.send("s1", System.currentTimeMillis() - 60_000, 1f);
            io.sidewinder.schemas.Forecast f = AvroSerdes.forecast().deserialize("f", p.forecasts().readValue());
            assertEquals(1L, f.getModelVersion(), "v2's bytes on the topic cannot serve: v1 does, on every instance");
        }
    }

    @Test
    void deletingTheServedVersionFallsBackToTheHighestVersionLeft() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            p.publish(2, 4);
            long t = System.currentTimeMillis() - 60_000;
            p.send("s1", t, 1f);
            p.retract(2);
            p.send("s1", t + 1_000, 2f);
            List<Long> versions = p.forecasts().readValuesToList().stream()
                    .map(v -> AvroSerdes.forecast().deserialize("f", v).getModelVersion()).toList();
            assertEquals(List.of(2L, 1L), versions);
        }
    }

    @Test
    void aSensorThatChangesItsChannelCountRestartsAfterARunOfTheNewWidthWhileAStrayRecordIsDeadLettered() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            p.publish(1, 4);   // univariate: serves any width, channel by channel
            long t = System.currentTimeMillis() - 600_000;
            for (int i = 0; i < 5; i++) p.send("s1", t + 1_000L * i, 1f + i, 2f);
            p.send("s1", t + 5_000, 1f, 2f, 3f);                       // a stray record of another width
            p.send("s1", t + 6_000, 6f, 2f);                           // breaks the run
            int n = SensorReadingProcessor.WIDTH_CHANGE_READINGS;
            for (int i = 0; i < n; i++) p.send("s1", t + 6_500, 1f, 2f, 3f);   // one reading sent n times: one of the run
            p.send("s1", t + 6_600, 6f, 2f);                           // breaks that run too
            for (int i = 0; i < n; i++) p.send("s1", t + 7_000 + 1_000L * i, 7f + i, 2f, 3f);   // the sensor changed
            p.send("s1", t + 7_000 + 1_000L * n, 9f, 2f, 3f);
            List<io.sidewinder.schemas.Forecast> forecasts = p.forecasts().readValuesToList().stream()
                    .map(v -> AvroSerdes.forecast().deserialize("f", v)).toList();
            // 7 of two channels; then the n-th reading of three channels restarts the sensor, and the one after it.
            assertEquals(7 + 2, forecasts.size());
            var last = forecasts.getLast();
            assertEquals(3 * last.getHorizonSteps(), last.getMean().size(), "a forecast of three channels");
            List<DeadLetter> dead = p.dead().readValuesToList().stream()
                    .map(v -> AvroSerdes.deadLetter().deserialize("d", v)).toList();
            assertEquals(1 + n + (n - 1), dead.size(), "the stray record, the repeated one, then the run's first n - 1");
            assertTrue(dead.stream().allMatch(d -> d.getReason().equals("WRONG_CHANNEL_COUNT")));
            assertEquals(1, p.metrics().rebuilds(PipelineMetrics.RebuildCause.CHANNELS_CHANGED));
        }
    }

    @Test
    void aHugeBadRecordsDeadLetterKeepsABoundedPrefixAndSaysWhereTheRestIs() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            byte[] junk = new byte[SensorReadingProcessor.MAX_DEAD_LETTER_VALUE + 100_000];
            java.util.Arrays.fill(junk, (byte) 7);
            p.in().pipeInput("s1".getBytes(StandardCharsets.UTF_8), junk, 1_000);
            DeadLetter d = AvroSerdes.deadLetter().deserialize("d", p.dead().readValue());
            assertEquals("UNDECODABLE", d.getReason());
            assertEquals(SensorReadingProcessor.MAX_DEAD_LETTER_VALUE, d.getValue().remaining());
            assertTrue(d.getError().contains("value " + junk.length + " bytes"), d.getError());
        }
    }

    @Test
    void onlyAnOversizedOutputIsSkippedByTheProductionHandler() {
        var handler = new OversizedRecordHandler();
        var context = new org.apache.kafka.streams.errors.ErrorHandlerContext() {
            public String topic() { return "sensor-readings"; }
            public int partition() { return 0; }
            public long offset() { return 42; }
            public org.apache.kafka.common.header.Headers headers() { return new org.apache.kafka.common.header.internals.RecordHeaders(); }
            public String processorNodeId() { return SidewinderTopology.STEP_PROCESSOR; }
            public org.apache.kafka.streams.processor.TaskId taskId() { return new org.apache.kafka.streams.processor.TaskId(0, 0); }
            public long timestamp() { return 0; }
            public byte[] sourceRawKey() { return null; }
            public byte[] sourceRawValue() { return null; }
        };
        var record = new org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>("t", new byte[3]);
        assertEquals(org.apache.kafka.streams.errors.ProductionExceptionHandler.Result.RESUME, handler.handleError(context,
                record, new org.apache.kafka.common.errors.RecordTooLargeException("too large")).result());
        assertEquals(org.apache.kafka.streams.errors.ProductionExceptionHandler.Result.FAIL, handler.handleError(context,
                record, new org.apache.kafka.common.errors.AuthorizationException("denied")).result());
    }

    @Test
    void aSensorIdWithControlCharactersOrTooLongIsDeadLetteredAndTheStreamGoesOn() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            long t = System.currentTimeMillis() - 60_000;
            p.send("\u0000abc", t, 1f);
            p.send("line\nbreak", t, 1f);
            p.send("x".repeat(DeadLetterReason.MAX_SENSOR_ID_BYTES + 1), t, 1f);
            p.send("é".repeat(DeadLetterReason.MAX_SENSOR_ID_BYTES / 2), t, 1f);   // exactly the limit in UTF-8
            assertEquals(List.of("INVALID_SENSOR_ID", "INVALID_SENSOR_ID", "INVALID_SENSOR_ID"), p.deadLetterReasons());
            assertEquals(1, p.forecasts().getQueueSize());
        }
    }

    @Test
    void aSentinelValueIsDeadLetteredAsOutOfRangeAndLeavesTheSensorsStatisticsAlone() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            long t = System.currentTimeMillis() - 60_000;
            p.send("s1", t, 1f);
            p.send("s1", t + 1_000, Float.MAX_VALUE);    // a device's "no reading"
            p.send("s1", t + 2_000, -1e30f);
            p.send("s1", t + 3_000, 1e17f);              // large, but a measurement
            assertEquals(List.of("OUT_OF_RANGE", "OUT_OF_RANGE"), p.deadLetterReasons());
            assertEquals(2, p.forecasts().getQueueSize());
        }
        try (Pipeline p = Pipeline.start(config(Map.of(SidewinderConfig.MAX_ABS_VALUE, 100.0)))) {
            p.send("s1", System.currentTimeMillis() - 60_000, 101f);   // the physical range, configured
            assertEquals(List.of("OUT_OF_RANGE"), p.deadLetterReasons());
        }
    }

    @Test
    void anEventTimeBefore1970IsDeadLetteredAsInvalid() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            p.send("s1", -9_000_000_000_000_000_000L, 1_000, 1f);
            assertEquals(List.of("INVALID_TIMESTAMP"), p.deadLetterReasons());
            assertEquals(0, p.forecasts().getQueueSize());
        }
    }

    @Test
    void storedModelStatesOfAnotherModelWithTheSameVersionNumberAreRebuiltNotReused() {
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            long t = System.currentTimeMillis() - 60_000;
            p.publish(2, 4);
            p.send("s1", t, 1f);                                                   // state of v2 (seed 4)
            p.retract(2);                                                          // retracted: v1 serves
            p.publish(2, 5);                                                       // another v2 (seed 5)
            double before = p.metrics().rebuilds(PipelineMetrics.RebuildCause.MODEL_SWAP);
            p.send("s1", t + 1_000, 2f);
            assertEquals(before + 1, p.metrics().rebuilds(PipelineMetrics.RebuildCause.MODEL_SWAP), "v2's number, other weights: rebuilt from recent readings");
            p.send("s1", t + 2_000, 3f);
            assertEquals(before + 1, p.metrics().rebuilds(PipelineMetrics.RebuildCause.MODEL_SWAP), "and reused from then on");
        }
    }

    @Test
    void aGrowingRingBufferGivesUpItsOldestReadingsBeforeTheSensorIsRefused() {
        float[] wide = new float[20];
        long t = System.currentTimeMillis() - 60_000;
        int oneReading;
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            p.send("s1", t, wide);
            oneReading = (int) p.metrics().meanStateBytes();
        }
        // room for the state with one recent reading and a little more, not for two (each is 8 + 4 + 80 bytes)
        try (Pipeline p = Pipeline.start(config(Map.of(SidewinderConfig.MAX_STATE_BYTES, oneReading + 50)))) {
            for (int i = 0; i < 4; i++) p.send("s1", t + 1_000L * i, wide);
            assertEquals(4, p.forecasts().readValuesToList().size());
            assertEquals(List.of(), p.deadLetterReasons());
        }
    }

    @Test
    void deadLettersAreStampedWhenTheyFailNotWithTheReadingsEventTime() {
        long before = System.currentTimeMillis();   // the driver's clock starts at its creation, after this
        try (Pipeline p = Pipeline.start(config(Map.of()))) {
            p.driver().advanceWallClockTime(java.time.Duration.ofMinutes(5));
            p.send("s1", 1_000, 1_000, Float.NaN);
            var record = p.dead().readRecord();
            assertTrue(record.timestamp() >= before + 300_000, "stamped " + record.timestamp() + ", the driver's clock");
        }
    }

    @Test
    void theLargestFutureToleranceMeansNeverInsteadOfOverflowing() {
        try (Pipeline p = Pipeline.start(config(Map.of(SidewinderConfig.FUTURE_TOLERANCE_MS, Long.MAX_VALUE)))) {
            p.send("s1", System.currentTimeMillis() + 86_400_000L, 1f);
            assertEquals(List.of(), p.deadLetterReasons());
            assertEquals(1, p.forecasts().getQueueSize());
        }
    }

    @Test
    void aFailureOfStreamsItselfReachesStreamsInsteadOfBecomingADeadLetter() {
        SidewinderConfig config = config(Map.of());
        ModelRegistry models = servingUnivariate();
        // Streams reports a failed send once, on the next forward (RecordCollectorImpl.checkForException).
        // Raw: forward's type parameters are bounded by byte[], which an overriding method cannot spell.
        @SuppressWarnings({"rawtypes", "unchecked"})
        MockProcessorContext<byte[], byte[]> context = new MockProcessorContext(config.streamsProperties()) {
            private boolean failed;

            @Override
            public void forward(Record record, String childName) {
                if (!failed && SidewinderTopology.FORECASTS_SINK.equals(childName)) {
                    failed = true;
                    throw new StreamsException("Error encountered sending record to topic sensor-forecasts");
                }
                super.forward(record, childName);
            }
        };
        addStores(context);
        SensorReadingProcessor processor = new SensorReadingProcessor(config,
                models, new PipelineMetrics(new SimpleMeterRegistry(), models));
        processor.init(context);

        byte[] key = "s1".getBytes(StandardCharsets.UTF_8);
        Record<byte[], byte[]> reading = new Record<>(key, PipelineHarness.reading("s1", 1_000, 1f), 1_000);
        assertThrows(StreamsException.class, () -> processor.process(reading));
        assertTrue(context.forwarded().stream().noneMatch(f -> SidewinderTopology.DEAD_LETTER_SINK.equals(
                f.childName().orElse(null))), "no dead letter for a record Streams will retry");
    }

    /** The step's three stores, in memory, registered with a mock context. */
    static void addStores(MockProcessorContext<byte[], byte[]> context) {
        context.setCurrentSystemTimeMs(1_000_000);
        for (String name : List.of(SidewinderTopology.STATE_STORE, SidewinderTopology.MODELS_STORE)) {
            addStore(context, Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(),
                    Serdes.ByteArray()).withLoggingDisabled().build());
        }
        addStore(context, Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(SidewinderTopology.REORDER_STORE),
                Serdes.Bytes(), Serdes.ByteArray()).withLoggingDisabled().build());
    }

    static ModelRegistry servingUnivariate() {
        ModelRegistry models = new ModelRegistry("default");
        models.offer(ModelRegistry.key("default", 1), AvroSerdes.modelSnapshot().serialize(null,
                ModelSnapshots.toSnapshot(ModelParameters.initialise(UNIVARIATE, 3), "default", 1, Map.of(), Map.of())));
        return models;
    }

    private static void addStore(MockProcessorContext<byte[], byte[]> context, KeyValueStore<?, ?> store) {
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
    }
}
