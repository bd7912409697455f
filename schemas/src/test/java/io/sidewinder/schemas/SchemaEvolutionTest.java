package io.sidewinder.schemas;

import static io.sidewinder.schemas.ResolvedDatum.assertResolved;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.Stream;

import io.sidewinder.schemas.serde.AvroSerde;
import io.sidewinder.schemas.serde.AvroSerdes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every current schema reads bytes written under every released version of itself. */
class SchemaEvolutionTest {

    private static final int DATUMS_PER_RELEASE = 300;

    static Stream<SchemaHistory.Release> releases() {
        return SchemaHistory.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("releases")
    void current_schema_is_compatible_with_every_released_writer(SchemaHistory.Release release) {
        Schema current = SidewinderSchemas.currentSchema(release.type());
        SchemaCompatibility.SchemaPairCompatibility result =
                SchemaCompatibility.checkReaderWriterCompatibility(current, release.schema());
        assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE, result.getType(),
                () -> "The current " + release.recordName() + " schema cannot read " + release + ": "
                        + result.getResult().getIncompatibilities().stream()
                                .map(i -> i.getType() + " at " + i.getLocation() + " (" + i.getMessage() + ")")
                                .toList()
                        + ". Make the change backward compatible, e.g. give new fields a default.");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("releases")
    void random_records_written_under_every_release_decode_into_the_current_class(SchemaHistory.Release release)
            throws IOException {
        Class<? extends SpecificRecord> type = release.type();
        Schema current = SidewinderSchemas.currentSchema(type);
        boolean isLatest = release.equals(SchemaHistory.latest(type));
        BinaryMessageEncoder<Object> oldWriter = new BinaryMessageEncoder<>(GenericData.get(), release.schema());
        BinaryMessageDecoder<? extends SpecificRecord> decoder = SidewinderSchemas.decoder(type);
        @SuppressWarnings("unchecked")
        AvroSerde<SpecificRecord> serde = (AvroSerde<SpecificRecord>) AvroSerdes.of(type);
        long seed = 0x5EED ^ release.toString().hashCode();
        RandomDatum random = new RandomDatum(seed);

        for (int i = 0; i < DATUMS_PER_RELEASE; i++) {
            String at = release + " datum " + i + " (seed " + seed + ")";
            Object written = random.next(release.schema());
            byte[] bytes = toArray(oldWriter.encode(written));
            assertEquals(release.fingerprint(),
                    ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(), at + ": header");

            SpecificRecord viaDecoder = decoder.decode(bytes);
            assertInstanceOf(type, viaDecoder, at);
            assertResolved(written, release.schema(), viaDecoder, current, at);

            SpecificRecord viaSerde = serde.deserialize("t", bytes);
            assertResolved(written, release.schema(), viaSerde, current, at + " via serde");
            // And back through the serde: the same record again (maps may come out in another order, so
            // bytes match exactly only in length unless written under the current schema without maps).
            byte[] again = serde.serialize("t", viaSerde);
            assertResolved(written, release.schema(), serde.deserialize("t", again), current, at + " re-encoded");
            if (isLatest) {
                assertEquals(bytes.length, again.length, at + ": re-encoded length");
                if (!hasMap(current)) {
                    assertArrayEquals(bytes, again, at + ": re-encoded bytes");
                }
            }
        }
    }

    private static boolean hasMap(Schema s) {
        return switch (s.getType()) {
            case MAP -> true;
            case ARRAY -> hasMap(s.getElementType());
            case UNION -> s.getTypes().stream().anyMatch(SchemaEvolutionTest::hasMap);
            case RECORD -> s.getFields().stream().anyMatch(f -> hasMap(f.schema()));
            default -> false;
        };
    }

    static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
