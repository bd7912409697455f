package io.sidewinder.schemas;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Single-object encoding (Avro spec: {@code C3 01}, 8-byte little-endian CRC-64-AVRO fingerprint of the
 * writer schema, binary body) for the Sidewinder record types, without a schema registry: one
 * {@link SchemaStore} holds every released version of every schema ({@link SchemaHistory}), so a decoder
 * resolves bytes written under any released version into the current generated class.
 *
 * <p>The encoders and decoders returned here are new instances; callers that decode on several threads
 * should keep one per thread (see {@code AvroSerde}).
 */
public final class SidewinderSchemas {

    /** Length of the single-object header: 2 marker bytes and the 8-byte fingerprint. */
    public static final int HEADER_LENGTH = 10;

    private static final SchemaStore.Cache STORE = new SchemaStore.Cache();
    private static final Map<Long, SchemaHistory.Release> BY_FINGERPRINT = new HashMap<>();

    static {
        for (SchemaHistory.Release release : SchemaHistory.all()) {
            SchemaHistory.Release clash = BY_FINGERPRINT.get(release.fingerprint());
            // Two releases of one type may share a fingerprint when only docs/defaults changed; the wire
            // format is then identical. Two different types never may.
            if (clash != null && clash.type() != release.type()) {
                throw new IllegalStateException(release + " and " + clash + " have the same fingerprint");
            }
            BY_FINGERPRINT.put(release.fingerprint(), release);
            STORE.addSchema(release.schema());
        }
    }

    private SidewinderSchemas() {
    }

    /** The store of every released writer schema, looked up by fingerprint. Read-only by convention. */
    public static SchemaStore schemaStore() {
        return STORE;
    }

    /** The release written under {@code fingerprint} (the newest one if several share it), if any. */
    public static Optional<SchemaHistory.Release> release(long fingerprint) {
        return Optional.ofNullable(BY_FINGERPRINT.get(fingerprint));
    }

    /** The fingerprint written in single-object headers for {@code schema}. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    /** The schema the generated class {@code type} was built from. */
    public static Schema currentSchema(Class<? extends SpecificRecord> type) {
        return SpecificData.getForClass(type).getSchema(type);
    }

    /**
     * A new single-object encoder for {@code type}, writing under its current schema.
     *
     * @throws IllegalArgumentException if {@code type} is not a Sidewinder record type
     * @throws IllegalStateException if the current schema is not a released version, so nothing could
     *     decode what it writes (release it: see {@link SchemaHistory})
     */
    public static <T extends SpecificRecord> BinaryMessageEncoder<T> encoder(Class<T> type) {
        Schema current = requireReleased(type);
        return new BinaryMessageEncoder<>(SpecificData.getForClass(type), current);
    }

    /**
     * A new single-object decoder for {@code type} that reads bytes written under any released version of
     * its schema into the current generated class.
     *
     * @throws IllegalArgumentException if {@code type} is not a Sidewinder record type
     */
    public static <T extends SpecificRecord> BinaryMessageDecoder<T> decoder(Class<T> type) {
        SchemaHistory.releases(type); // rejects unknown types
        // SpecificData.getForClass returns the class's own model (MODEL$), which carries its logical-type
        // conversions (timestamp-millis <-> Instant).
        return new BinaryMessageDecoder<>(SpecificData.getForClass(type), currentSchema(type), STORE);
    }

    private static Schema requireReleased(Class<? extends SpecificRecord> type) {
        SchemaHistory.releases(type); // rejects unknown types
        Schema current = currentSchema(type);
        long fp = fingerprint(current);
        SchemaHistory.Release release = BY_FINGERPRINT.get(fp);
        if (release == null || release.type() != type) {
            SchemaHistory.Release latest = SchemaHistory.latest(type);
            throw new IllegalStateException("The current schema of " + type.getSimpleName()
                    + " is not a released version (fingerprint " + String.format("%016x", fp)
                    + "); add " + SchemaHistory.resourcePath(type.getSimpleName(), latest.version() + 1)
                    + " and bump it in SchemaHistory");
        }
        return current;
    }
}
