package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.DeadLetter;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.ModelSnapshots;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Out-of-order handling, fast, with TopologyTestDriver (real RocksDB stores, stream-time punctuation). */
class ReorderBufferTest {
    @TempDir
    Path stateDir;

    @Test
    void readingsWithinTheGraceAreAppliedInEventTimeOrderAndOlderOnesAreDeadLettered() {
        Map<String, Object> p = new HashMap<>();
        p.put(SidewinderConfig.STATE_DIR, stateDir.toString());
        p.put(SidewinderConfig.REORDER_GRACE_MS, 5_000L);
        p.put(SidewinderConfig.HTTP_PORT, -1);
        SidewinderConfig config = new SidewinderConfig(p);
        ModelRegistry models = new ModelRegistry("default");
        PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry(), models);
        try (TopologyTestDriver driver = new TopologyTestDriver(SidewinderTopology.build(config, models, metrics),
                config.streamsProperties())) {
            TestInputTopic<String, byte[]> modelsIn = driver.createInputTopic(config.getString(SidewinderConfig.MODELS_TOPIC),
                    new StringSerializer(), new ByteArraySerializer());
            var snapshot = ModelSnapshots.toSnapshot(PipelineHarness.params(1), "default", 1, Map.of(), Map.of());
            modelsIn.pipeInput(ModelRegistry.key("default", 1), AvroSerdes.modelSnapshot().serialize(null, snapshot));

            TestInputTopic<byte[], byte[]> in = driver.createInputTopic(config.inputTopics().getFirst(),
                    new ByteArraySerializer(), new ByteArraySerializer());
            TestOutputTopic<byte[], byte[]> forecasts = driver.createOutputTopic(
                    config.getString(SidewinderConfig.FORECASTS_TOPIC), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            TestOutputTopic<byte[], byte[]> dead = driver.createOutputTopic(
                    config.getString(SidewinderConfig.DEAD_LETTER_TOPIC), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            byte[] key = "s1".getBytes(StandardCharsets.UTF_8);
            for (long t : new long[] {10_000, 12_000, 11_000}) {
                in.pipeInput(key, PipelineHarness.reading("s1", t, 1f, 2f), t);
            }
            assertEquals(0, forecasts.getQueueSize(), "held until stream time passes event time + grace");
            in.pipeInput(key, PipelineHarness.reading("s1", 20_000, 1f, 2f), 20_000);
            List<Long> applied = forecasts.readValuesToList().stream()
                    .map(v -> AvroSerdes.forecast().deserialize("f", v).getEventTime().toEpochMilli()).toList();
            assertEquals(List.of(10_000L, 11_000L, 12_000L), applied);

            in.pipeInput(key, PipelineHarness.reading("s1", 9_000, 1f, 2f), 21_000);
            DeadLetter d = AvroSerdes.deadLetter().deserialize("d", dead.readValue());
            assertEquals("OUT_OF_ORDER", d.getReason());
            assertEquals(0, forecasts.getQueueSize());
        }
    }

    private SensorReadingProcessorTest.Pipeline withGrace(long graceMs) {
        return SensorReadingProcessorTest.Pipeline.start(SensorReadingProcessorTest.config(stateDir,
                Map.of(SidewinderConfig.REORDER_GRACE_MS, graceMs)));
    }

    @Test
    void aQuietPartitionAppliesItsBufferedReadingsAfterAGraceOfWallClockSilence() {
        try (var p = withGrace(5_000)) {
            for (long t : new long[] {10_000, 12_000, 11_000}) {
                p.send("s1", t, 1f);
            }
            p.driver().advanceWallClockTime(java.time.Duration.ofMillis(4_000));
            assertEquals(0, p.forecasts().getQueueSize(), "still within the grace");
            p.driver().advanceWallClockTime(java.time.Duration.ofMillis(1_000));
            assertEquals(List.of(10_000L, 11_000L, 12_000L), p.forecastTimes());
        }
    }

    /** The step with grace 0 on a mock context whose reorder buffer a test fills before {@link #startAndSend}. */
    private final class MockStep {
        final SidewinderConfig config = new SidewinderConfig(Map.of(SidewinderConfig.HTTP_PORT, -1,
                SidewinderConfig.STATE_DIR, stateDir.toString()));
        final org.apache.kafka.streams.processor.api.MockProcessorContext<byte[], byte[]> context =
                new org.apache.kafka.streams.processor.api.MockProcessorContext<>(config.streamsProperties());
        final org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> buffer;

        MockStep() {
            SensorReadingProcessorTest.addStores(context);
            buffer = context.getStateStore(SidewinderTopology.REORDER_STORE);
        }

        /** Starts the step and processes one reading of s1 at {@code t}. */
        void startAndSend(long t) {
            ModelRegistry models = SensorReadingProcessorTest.servingUnivariate();
            SensorReadingProcessor processor = new SensorReadingProcessor(config, models,
                    new PipelineMetrics(new SimpleMeterRegistry(), models));
            processor.init(context);
            processor.process(new org.apache.kafka.streams.processor.api.Record<>("s1".getBytes(StandardCharsets.UTF_8),
                    PipelineHarness.reading("s1", t, 1f), t));
        }

        List<byte[]> forwarded(String sink) {
            return context.forwarded().stream().filter(f -> sink.equals(f.childName().orElse(null)))
                    .<byte[]>map(f -> f.record().value()).toList();
        }

        boolean bufferEmpty() {
            try (var it = buffer.all()) {
                return !it.hasNext();
            }
        }
    }

    @Test
    void readingsBufferedUnderAnEarlierGraceAreAppliedFirstWhenTheGraceIsLowered() {
        MockStep step = new MockStep();
        byte[] key = "s1".getBytes(StandardCharsets.UTF_8);
        // What a run with a grace left behind, one reading in this version's key layout, one in the earlier one's.
        for (long t : new long[] {11_000, 10_000}) {
            var reading = AvroSerdes.sensorReading().deserialize("r", PipelineHarness.reading("s1", t, 1f));
            var source = new SensorReadingProcessor.Source("readings", 0, t, t, key, PipelineHarness.reading("s1", t, 1f),
                    new org.apache.kafka.common.header.internals.RecordHeaders());
            step.buffer.put(t == 10_000 ? SensorReadingProcessor.legacyBufferKey(reading, source)
                    : SensorReadingProcessor.bufferKey(reading, source), source.toBytes());
        }
        step.startAndSend(12_000);
        List<Long> applied = step.forwarded(SidewinderTopology.FORECASTS_SINK).stream()
                .map(v -> AvroSerdes.forecast().deserialize("f", v).getEventTime().toEpochMilli()).toList();
        assertEquals(List.of(10_000L, 11_000L, 12_000L), applied);
        assertTrue(step.bufferEmpty(), "the buffer is empty");
    }

    @Test
    void theGraceOrdersByEventTimeEvenWhenTheRecordsCarryTheirUploadTime() {
        try (var p = withGrace(5_000)) {
            long uploaded = 1_000_000;   // a backlog sent at once: every record stamped with the upload time
            for (long t : new long[] {10_000, 12_000, 11_000}) {
                p.send("s1", t, uploaded, 1f);
            }
            assertEquals(0, p.forecasts().getQueueSize(), "held: stream time is the readings' 12 s, not the upload's");
            p.send("s1", 20_000, uploaded, 1f);
            assertEquals(List.of(10_000L, 11_000L, 12_000L), p.forecastTimes());
            assertEquals(List.of(), p.deadLetterReasons());
        }
    }

    @Test
    void theExtractorReadsTheEventTimeWithoutDecodingAndFallsBackForAnythingElse() {
        var extractor = new EventTimeExtractor(300_000);
        for (long t : new long[] {0, 1, 63, 64, 1_700_000_000_123L, -5}) {
            for (String id : new String[] {"s", "pump-01", "x".repeat(300)}) {
                byte[] v = PipelineHarness.reading(id, t, 1f, 2f);
                assertEquals(t, EventTimeExtractor.eventTimeOfCurrentSchema(v), id + " " + t);
                assertEquals(t, extractor.eventTime("t", v));
            }
        }
        byte[] good = PipelineHarness.reading("pump-01", 1_000, 1f);
        assertEquals(Long.MIN_VALUE, EventTimeExtractor.eventTimeOfCurrentSchema(java.util.Arrays.copyOf(good, 12)));
        assertEquals(-1, extractor.eventTime("t", "garbage".getBytes(StandardCharsets.UTF_8)));
        assertEquals(-1, extractor.eventTime("t", java.util.Arrays.copyOf(good, 12)));
    }

    @Test
    void aRecordWithoutAUsableEventTimeLeavesStreamTimeWhereItIs() {
        var extractor = new EventTimeExtractor(300_000);
        var garbage = new org.apache.kafka.clients.consumer.ConsumerRecord<Object, Object>("t", 0, 7, 1_000_000L,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0, 0, "s1".getBytes(StandardCharsets.UTF_8),
                "garbage".getBytes(StandardCharsets.UTF_8), new org.apache.kafka.common.header.internals.RecordHeaders(),
                java.util.Optional.empty());
        assertEquals(5_000, extractor.extract(garbage, 5_000), "the partition's time, not the upload time");
        assertEquals(1_000_000, extractor.extract(garbage, -1), "before the partition has a time: the record's");
    }

    @Test
    void anEntryWhoseStoredLengthIsHugeIsDeadLetteredWithoutAllocatingIt() {
        MockStep step = new MockStep();
        var reading = AvroSerdes.sensorReading().deserialize("r", PipelineHarness.reading("s1", 10_000, 1f));
        var source = new SensorReadingProcessor.Source("readings", 0, 3, 10_000, null, null,
                new org.apache.kafka.common.header.internals.RecordHeaders());
        byte[] damaged = java.nio.ByteBuffer.allocate(64).putInt(0x7FFF_FFF0).array();   // a topic "2 GB" long
        step.buffer.put(SensorReadingProcessor.bufferKey(reading, source), damaged);
        step.startAndSend(12_000);
        List<DeadLetter> dead = step.forwarded(SidewinderTopology.DEAD_LETTER_SINK).stream()
                .map(v -> AvroSerdes.deadLetter().deserialize("d", v)).toList();
        assertEquals(1, dead.size());
        assertEquals("INTERNAL_ERROR", dead.getFirst().getReason());
        assertTrue(dead.getFirst().getError().contains("length 2147483632"), dead.getFirst().getError());
        assertTrue(step.bufferEmpty(), "the damaged entry is gone");
    }

    @Test
    void theSameSensorTimeAndOffsetOnTwoInputTopicsAreBothAccountedFor() {
        var config = SensorReadingProcessorTest.config(stateDir, Map.of(SidewinderConfig.REORDER_GRACE_MS, 1_000L,
                SidewinderConfig.INPUT_TOPICS, "readings-a,readings-b"));
        try (var p = SensorReadingProcessorTest.Pipeline.start(config)) {
            var second = p.driver().createInputTopic("readings-b", new ByteArraySerializer(), new ByteArraySerializer());
            byte[] key = "s1".getBytes(StandardCharsets.UTF_8);
            p.send("s1", 10_000, 1f);                                              // readings-a, offset 0
            second.pipeInput(key, PipelineHarness.reading("s1", 10_000, 2f), 10_000);   // readings-b, offset 0
            p.send("s1", 20_000, 3f);                                              // passes the grace
            assertEquals(List.of(10_000L), p.forecastTimes());
            assertEquals(List.of("OUT_OF_ORDER"), p.deadLetterReasons(), "the second reading at 10 s is not lost");
        }
    }

    @Test
    void bufferedReadingsAreTimedWhenAppliedAndCountedInAndOut() {
        try (var p = withGrace(1_000)) {
            for (int i = 0; i < 10; i++) {
                p.send("s1", 10_000 + i * 100L, 1f);
            }
            p.send("s1", 15_000, 1f);
            PipelineMetrics m = p.metrics();
            assertEquals(10, m.readings(), "the ten readings past the grace are applied");
            assertEquals(10, m.latency(PipelineMetrics.LatencyPath.BUFFERED_APPLY).count());
            assertEquals(11, m.latency(PipelineMetrics.LatencyPath.BUFFER_INSERT).count());
            assertEquals(0, m.latency(PipelineMetrics.LatencyPath.DIRECT).count());
            assertEquals(11, m.recordsIn());
            assertEquals(1, m.bufferedNow(), "the last one waits for its grace");
        }
    }

    @Test
    void readingsBufferedWhenTheirModelIsRetractedAreDeadLetteredAsNoModel() {
        try (var p = withGrace(5_000)) {
            for (long t : new long[] {10_000, 11_000, 12_000}) {
                p.send("s1", t, 1f);
            }
            p.retract(1);   // the only model
            p.driver().advanceWallClockTime(java.time.Duration.ofMillis(5_000));
            assertEquals(List.of("NO_MODEL", "NO_MODEL", "NO_MODEL"), p.deadLetterReasons());
            assertEquals(0, p.forecasts().getQueueSize());
        }
    }

    @Test
    void anUnreadableBufferEntryIsDeadLetteredAndRemovedInsteadOfFailingEveryFlush() {
        MockStep step = new MockStep();
        var reading = AvroSerdes.sensorReading().deserialize("r", PipelineHarness.reading("s1", 10_000, 1f));
        var source = new SensorReadingProcessor.Source("readings", 0, 3, 10_000, null, null,
                new org.apache.kafka.common.header.internals.RecordHeaders());
        step.buffer.put(SensorReadingProcessor.bufferKey(reading, source), new byte[] {1, 2, 3});   // damaged
        step.startAndSend(12_000);
        List<String> reasons = step.forwarded(SidewinderTopology.DEAD_LETTER_SINK).stream()
                .map(v -> AvroSerdes.deadLetter().deserialize("d", v).getReason()).toList();
        assertEquals(List.of("INTERNAL_ERROR"), reasons);
        assertTrue(step.bufferEmpty(), "the damaged entry is gone");
    }
}
