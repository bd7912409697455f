package io.sidewinder.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import io.sidewinder.schemas.AnomalyScore;
import io.sidewinder.schemas.DeadLetter;
import io.sidewinder.schemas.Forecast;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.RandomDatum;
import io.sidewinder.schemas.SchemaHistory;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.SidewinderSchemas;
import io.sidewinder.schemas.Tensor;
import org.apache.avro.generic.GenericData;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AvroSerdeTest {

    private static final Instant T0 = Instant.parse("2025-06-01T12:00:00.123Z");

    /** One sample per type, and per optional field both unset (null) and set. */
    static Stream<Arguments> samples() {
        return Stream.of(
                Arguments.of("SensorReading, optional fields null", SensorReading.newBuilder()
                        .setSensorId("pump-7").setEventTime(T0).setValues(List.of(1.5f, -2f, Float.NaN)).build()),
                Arguments.of("SensorReading, optional fields set", SensorReading.newBuilder()
                        .setSensorId("pump-7").setEventTime(T0).setValues(List.of(21.25f))
                        .setUnit("degC").setQuality(0.75f).build()),
                Arguments.of("SensorReading, no values", SensorReading.newBuilder()
                        .setSensorId("").setEventTime(Instant.EPOCH).setValues(List.of()).build()),
                Arguments.of("Forecast", Forecast.newBuilder()
                        .setSensorId("pump-7").setEventTime(T0).setModelId("ssm-a").setModelVersion(3)
                        .setHorizonSteps(2).setStepMillis(1000).setMean(List.of(1f, 2f, 3f, 4f))
                        .setStddev(List.of(0.1f, 0.2f, 0.3f, 0.4f)).build()),
                Arguments.of("AnomalyScore", AnomalyScore.newBuilder()
                        .setSensorId("pump-7").setEventTime(T0).setObserved(List.of(9f)).setExpected(List.of(1f))
                        .setStddev(List.of(0.5f)).setRawSurprise(12.5).setLikelihood(0.999).setFlagged(true)
                        .setModelVersion(3).build()),
                Arguments.of("ModelSnapshot", ModelSnapshot.newBuilder()
                        .setModelId("ssm-a").setVersion(3).setCreatedAt(T0)
                        .setConfig(Map.of("stateDim", "16", "channels", "2"))
                        .setParameters(List.of(
                                Tensor.newBuilder().setName("A").setShape(List.of(2, 3))
                                        .setData(ByteBuffer.wrap(new byte[24])).build(),
                                Tensor.newBuilder().setName("bias").setShape(List.of())
                                        .setData(ByteBuffer.wrap(new byte[] {0, 0, (byte) 0x80, 0x3f})).build()))
                        .setProvenance(Map.of("seed", "42")).setMetrics(Map.of("val.nll", -1.25))
                        .setChecksum("ab".repeat(32)).build()),
                Arguments.of("ModelSnapshot, empty collections", ModelSnapshot.newBuilder()
                        .setModelId("empty").setVersion(0).setCreatedAt(T0).setConfig(Map.of())
                        .setParameters(List.of()).setProvenance(Map.of()).setMetrics(Map.of()).setChecksum("")
                        .build()),
                Arguments.of("DeadLetter, optional fields null", DeadLetter.newBuilder()
                        .setReason("UNDECODABLE").setError("bad header").setStage("ingest").setFailedAt(T0)
                        .build()),
                Arguments.of("DeadLetter, optional fields set", DeadLetter.newBuilder()
                        .setSourceTopic("readings").setSourcePartition(3).setSourceOffset(12345L)
                        .setKey(ByteBuffer.wrap("pump-7".getBytes())).setValue(ByteBuffer.wrap(new byte[] {1, 2}))
                        .setReason("NON_FINITE").setError("value NaN").setStage("score").setFailedAt(T0).build()));
    }

    @Test
    void the_serde_writes_exactly_avros_single_object_bytes_for_small_and_large_records_in_a_row() throws IOException {
        BinaryMessageEncoder<Forecast> avro = new BinaryMessageEncoder<>(org.apache.avro.specific.SpecificData.get(),
                Forecast.getClassSchema());
        AvroSerde<Forecast> serde = AvroSerdes.forecast();
        for (int n : new int[] {2, 3_000, 5, 70_000, 1}) {   // grows past the reused buffer, then small again
            List<Float> mean = new ArrayList<>();
            for (int i = 0; i < n; i++) mean.add(i * 0.5f - 3f);
            Forecast f = Forecast.newBuilder().setSensorId("s-" + n).setEventTime(T0).setModelId("m").setModelVersion(n)
                    .setHorizonSteps(n).setStepMillis(1_000).setMean(mean).setStddev(mean).build();
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            avro.encode(f, expected);
            byte[] got = serde.serialize("t", f);
            assertArrayEquals(expected.toByteArray(), got, "forecast of " + n);
            assertEquals(f, serde.deserialize("t", got));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void every_type_round_trips_through_its_serde(String name, SpecificRecord sample) {
        Serde<SpecificRecord> serde = serdeOf(sample);
        byte[] bytes = serde.serializer().serialize("topic", sample);
        assertEquals(0xC3, bytes[0] & 0xff);
        assertEquals(0x01, bytes[1]);
        SpecificRecord back = serde.deserializer().deserialize("topic", bytes);
        assertEquals(sample.getClass(), back.getClass());
        assertEquals(sample, back);
        // Same bytes again, up to map entry order.
        assertEquals(bytes.length, serde.serializer().serialize("topic", back).length);
    }

    @Test
    void factories_return_the_serde_of_each_type() {
        assertEquals(SensorReading.class, AvroSerdes.sensorReading().type());
        assertEquals(Forecast.class, AvroSerdes.forecast().type());
        assertEquals(AnomalyScore.class, AvroSerdes.anomalyScore().type());
        assertEquals(ModelSnapshot.class, AvroSerdes.modelSnapshot().type());
        assertEquals(DeadLetter.class, AvroSerdes.deadLetter().type());
        assertSame(AvroSerdes.forecast(), AvroSerdes.of(Forecast.class));
        for (Class<? extends SpecificRecord> type : SchemaHistory.recordTypes()) {
            assertEquals(type, AvroSerdes.of(type).type());
        }
        assertThrows(IllegalArgumentException.class, () -> AvroSerdes.of(Tensor.class));
        assertThrows(IllegalArgumentException.class, () -> new AvroSerde<>(Tensor.class));
    }

    @Test
    void null_is_a_tombstone_both_ways() {
        for (Class<? extends SpecificRecord> type : SchemaHistory.recordTypes()) {
            AvroSerde<? extends SpecificRecord> serde = AvroSerdes.of(type);
            assertNull(serde.serializer().serialize("t", null));
            assertNull(serde.deserializer().deserialize("t", null));
        }
    }

    // ---- undecodable bytes ------------------------------------------------------------------------------

    @Test
    void random_junk_is_rejected_naming_the_type() {
        Random random = new Random(1);
        for (Class<? extends SpecificRecord> type : SchemaHistory.recordTypes()) {
            for (int i = 0; i < 500; i++) {
                byte[] junk = new byte[random.nextInt(64)];
                random.nextBytes(junk);
                assertRejected(type, junk, "");
            }
        }
    }

    @Test
    void empty_bytes_are_not_a_tombstone() {
        assertRejected(SensorReading.class, new byte[0], "truncated header");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void every_truncation_is_rejected(String name, SpecificRecord sample) {
        byte[] bytes = serdeOf(sample).serializer().serialize("t", sample);
        for (int n = 0; n < bytes.length; n++) {
            assertRejected(sample.getClass(), Arrays.copyOf(bytes, n), "truncated");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void wrong_magic_is_rejected(String name, SpecificRecord sample) {
        byte[] bytes = serdeOf(sample).serializer().serialize("t", sample);
        byte[] first = bytes.clone();
        first[0] = (byte) 0xC4;
        assertRejected(sample.getClass(), first, "bad header 0xC4 0x01");
        byte[] second = bytes.clone();
        second[1] = 0x02;
        assertRejected(sample.getClass(), second, "bad header 0xC3 0x02");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void unknown_fingerprint_is_rejected(String name, SpecificRecord sample) {
        byte[] bytes = serdeOf(sample).serializer().serialize("t", sample);
        for (int i = 2; i < SidewinderSchemas.HEADER_LENGTH; i++) {
            byte[] changed = bytes.clone();
            changed[i] ^= 0x10;
            assertRejected(sample.getClass(), changed, "unknown schema fingerprint");
        }
    }

    @Test
    void bytes_of_another_type_are_rejected() {
        byte[] forecast = AvroSerdes.forecast().serialize("t", (Forecast) samples()
                .map(a -> a.get()[1]).filter(Forecast.class::isInstance).findFirst().orElseThrow());
        assertRejected(SensorReading.class, forecast, "the bytes are a Forecast v1, not a SensorReading");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void trailing_bytes_are_rejected(String name, SpecificRecord sample) {
        byte[] bytes = serdeOf(sample).serializer().serialize("t", sample);
        assertRejected(sample.getClass(), Arrays.copyOf(bytes, bytes.length + 1), "1 trailing bytes");
    }

    @Test
    void huge_length_claims_are_rejected_without_allocating() throws IOException {
        // A SensorReading whose values array claims a billion floats, and one whose id claims 2 GB.
        ByteArrayOutputStream array = header(SensorReading.class);
        BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(array, null);
        e.writeString("pump-7");
        e.writeLong(0);
        e.writeLong(1_000_000_000L);
        e.flush();
        assertRejected(SensorReading.class, array.toByteArray(), "block claims 1000000000 items");

        ByteArrayOutputStream string = header(SensorReading.class);
        e = EncoderFactory.get().directBinaryEncoder(string, null);
        e.writeLong(Integer.MAX_VALUE);
        e.flush();
        assertRejected(SensorReading.class, string.toByteArray(), "length 2147483647");

        ByteArrayOutputStream negative = header(SensorReading.class);
        e = EncoderFactory.get().directBinaryEncoder(negative, null);
        e.writeLong(-5);
        e.flush();
        assertRejected(SensorReading.class, negative.toByteArray(), "negative length");
    }

    @Test
    void corrupt_union_index_and_invalid_utf8_are_rejected() throws IOException {
        ByteArrayOutputStream union = header(SensorReading.class);
        BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(union, null);
        e.writeString("pump-7");
        e.writeLong(0);
        e.writeLong(0); // empty values
        e.writeIndex(7); // unit: union has 2 branches
        e.flush();
        assertRejected(SensorReading.class, union.toByteArray(), "union branch index 7");

        ByteArrayOutputStream utf8 = header(SensorReading.class);
        e = EncoderFactory.get().directBinaryEncoder(utf8, null);
        e.writeBytes(new byte[] {'a', (byte) 0xC0, (byte) 0x80}); // overlong NUL
        e.flush();
        assertRejected(SensorReading.class, utf8.toByteArray(), "not valid UTF-8");
    }

    @Test
    void damaged_bodies_either_fail_cleanly_or_decode_to_a_record_that_round_trips() {
        Random random = new Random(7);
        int accepted = 0, rejected = 0;
        for (Class<? extends SpecificRecord> type : SchemaHistory.recordTypes()) {
            @SuppressWarnings("unchecked")
            AvroSerde<SpecificRecord> serde = (AvroSerde<SpecificRecord>) AvroSerdes.of(type);
            BinaryMessageEncoder<Object> writer =
                    new BinaryMessageEncoder<>(GenericData.get(), SchemaHistory.latest(type).schema());
            RandomDatum datums = new RandomDatum(11);
            for (int i = 0; i < 400; i++) {
                byte[] bytes = encode(writer, datums.next(SchemaHistory.latest(type).schema()));
                // Random body bytes after a valid header, or one bit flipped in the body.
                if (i % 2 == 0) {
                    for (int k = SidewinderSchemas.HEADER_LENGTH; k < bytes.length; k++) {
                        bytes[k] = (byte) random.nextInt(256);
                    }
                } else if (bytes.length > SidewinderSchemas.HEADER_LENGTH) {
                    int k = SidewinderSchemas.HEADER_LENGTH
                            + random.nextInt(bytes.length - SidewinderSchemas.HEADER_LENGTH);
                    bytes[k] ^= (byte) (1 << random.nextInt(8));
                }
                SpecificRecord decoded;
                try {
                    decoded = serde.deserialize("t", bytes);
                } catch (SerializationException e) {
                    assertTrue(e.getMessage().contains(type.getSimpleName()), e.getMessage());
                    rejected++;
                    continue;
                }
                // Accepted: then it is a complete, well-formed record that survives another round trip.
                // (Compared as bytes: record equals() treats a NaN double as unequal to itself.)
                assertNotNull(decoded);
                byte[] again = serde.serialize("t", decoded);
                assertArrayEquals(again, serde.serialize("t", serde.deserialize("t", again)));
                accepted++;
            }
        }
        // Both outcomes were exercised: otherwise one branch above checked nothing.
        assertTrue(rejected > 0, "no damaged body was rejected (" + accepted + " accepted)");
        assertTrue(accepted > 0, "no damaged body was accepted (" + rejected + " rejected)");
    }

    @Test
    void serializing_an_incomplete_record_fails_naming_the_type() {
        SerializationException e = assertThrows(SerializationException.class,
                () -> AvroSerdes.sensorReading().serialize("readings", new SensorReading()));
        assertTrue(e.getMessage().startsWith("Cannot serialize SensorReading for topic 'readings'"), e.getMessage());
    }

    @Test
    void one_serde_is_safe_to_share_between_threads() throws Exception {
        AvroSerde<SpecificRecord> serde = serdeOf(SensorReading.newBuilder()
                .setSensorId("x").setEventTime(T0).setValues(List.of()).build());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        SensorReading r = SensorReading.newBuilder().setSensorId("s-" + thread + "-" + i)
                                .setEventTime(T0.plusMillis(i)).setValues(List.of((float) i, (float) thread))
                                .setUnit(i % 2 == 0 ? null : "u" + i).build();
                        assertEquals(r, serde.deserialize("t", serde.serialize("t", r)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private static AvroSerde<SpecificRecord> serdeOf(SpecificRecord sample) {
        return (AvroSerde<SpecificRecord>) AvroSerdes.of(sample.getClass());
    }

    private static void assertRejected(Class<? extends SpecificRecord> type, byte[] bytes, String why) {
        SerializationException e = assertThrows(SerializationException.class,
                () -> AvroSerdes.of(type).deserializer().deserialize("readings", bytes),
                () -> "accepted " + bytes.length + " bytes " + Arrays.toString(bytes));
        String prefix = "Cannot deserialize " + type.getSimpleName() + " from topic 'readings' (" + bytes.length
                + " bytes): ";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        assertTrue(e.getMessage().contains(why), () -> "expected '" + why + "' in: " + e.getMessage());
    }

    private static ByteArrayOutputStream header(Class<? extends SpecificRecord> type) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xC3);
        out.write(0x01);
        long fp = SidewinderSchemas.fingerprint(SidewinderSchemas.currentSchema(type));
        for (int i = 0; i < 8; i++) {
            out.write((int) (fp >>> (8 * i)) & 0xff);
        }
        return out;
    }

    private static byte[] encode(BinaryMessageEncoder<Object> encoder, Object datum) {
        try {
            ByteBuffer buffer = encoder.encode(datum);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
