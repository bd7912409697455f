package io.sidewinder.schemas.serde;

import java.io.IOException;
import java.util.HexFormat;

import io.sidewinder.schemas.SchemaHistory;
import io.sidewinder.schemas.SidewinderSchemas;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for one Sidewinder record type, in Avro single-object encoding: {@code C3 01}, the 8-byte
 * fingerprint of the writer schema, the binary body. Values written under any released version of the
 * schema ({@link SchemaHistory}) are read into the current generated class.
 *
 * <p>{@code null} maps to {@code null} both ways (tombstones). Bytes that are not a well-formed record of
 * this type throw {@link SerializationException} naming the type and the reason (bad header, unknown
 * fingerprint, another type, truncated, corrupt, trailing bytes); a decode never returns a partly-garbage
 * record. Instances are thread-safe and may be shared.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final Class<T> type;
    private final String typeName;

    // One encoder and one decoder per thread. Avro documents BinaryMessageEncoder/Decoder as thread-safe,
    // but that rests on internal caches (the decoder's per-fingerprint codecs, GenericDatumReader's
    // resolver and string-class caches, where AVRO-3531 was a real multi-thread bug) and on callers never
    // sharing a `reuse` datum. Per-thread instances keep us independent of those details at the cost of
    // one resolving decoder per thread and writer version, built once. A new decoder per call would
    // rebuild the writer->reader resolution for every record, which is far more expensive.
    private final ThreadLocal<BinaryMessageEncoder<T>> encoders;
    private final ThreadLocal<BinaryMessageDecoder<T>> decoders;

    private final Serializer<T> serializer = new Serializer<>() {
        @Override
        public byte[] serialize(String topic, T data) {
            return AvroSerde.this.serialize(topic, data);
        }
    };

    private final Deserializer<T> deserializer = new Deserializer<>() {
        @Override
        public T deserialize(String topic, byte[] data) {
            return AvroSerde.this.deserialize(topic, data);
        }
    };

    /**
     * A serde for {@code type}, one of the record types in {@link SchemaHistory#recordTypes()}.
     *
     * @throws IllegalArgumentException if {@code type} has no released schema history
     * @throws IllegalStateException if the current schema of {@code type} is not released
     */
    public AvroSerde(Class<T> type) {
        this.type = type;
        this.typeName = type.getSimpleName();
        SidewinderSchemas.encoder(type); // fail fast: unknown type or unreleased current schema
        this.encoders = ThreadLocal.withInitial(() -> SidewinderSchemas.encoder(type));
        this.decoders = ThreadLocal.withInitial(() -> SidewinderSchemas.decoder(type));
    }

    /**
     * Where a record is encoded before its bytes are copied out: one per thread, kept between records. Avro's direct
     * encoder writes every float separately, and a ByteArrayOutputStream takes a lock and checks its capacity (and
     * regrows from its first size) on each of them.
     */
    private static final ThreadLocal<ReusableSink> sinks = ThreadLocal.withInitial(ReusableSink::new);

    static final class ReusableSink extends java.io.OutputStream {
        private byte[] buf = new byte[1024];
        private int count;

        void reset() {
            count = 0;
            if (buf.length > 1 << 20) buf = new byte[1024];   // one huge record does not pin its buffer forever
        }

        @Override
        public void write(int b) {
            if (count == buf.length) buf = java.util.Arrays.copyOf(buf, buf.length * 2);
            buf[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (count + len > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, count + len));
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        byte[] toByteArray() {
            return java.util.Arrays.copyOf(buf, count);
        }
    }

    /** The record type this serde reads and writes. */
    public Class<T> type() {
        return type;
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }

    /** Single-object encoding of {@code data} under the current schema; {@code null} for {@code null}. */
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        try {
            ReusableSink out = sinks.get();
            out.reset();
            encoders.get().encode(data, out);
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot serialize " + typeName + topicPart("for", topic) + ": " + e, e);
        }
    }

    /**
     * Decodes single-object encoded bytes written under any released version of the schema;
     * {@code null} for {@code null}.
     *
     * @throws SerializationException if the bytes are not one well-formed record of this type
     */
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        int header = SidewinderSchemas.HEADER_LENGTH;
        if (data.length < header) {
            throw fail(topic, data, "truncated header: single-object encoding needs " + header
                    + " header bytes (C3 01 + 8-byte schema fingerprint)");
        }
        if ((data[0] & 0xff) != 0xC3 || data[1] != 0x01) {
            throw fail(topic, data, String.format("bad header 0x%02X 0x%02X, expected 0xC3 0x01: not Avro"
                    + " single-object encoding", data[0] & 0xff, data[1] & 0xff));
        }
        long fingerprint = 0;
        for (int i = header - 1; i >= 2; i--) { // little-endian
            fingerprint = (fingerprint << 8) | (data[i] & 0xff);
        }
        long fp = fingerprint;
        SchemaHistory.Release writer = SidewinderSchemas.release(fp).orElseThrow(() -> fail(topic, data,
                "unknown schema fingerprint " + HexFormat.of().toHexDigits(fp) + ": not a released version of"
                        + " any Sidewinder schema (newer writer, or a schema changed without a history release?)"));
        if (writer.type() != type) {
            throw fail(topic, data, "the bytes are a " + writer + ", not a " + typeName);
        }
        try {
            WireCheck.check(writer.schema(), data, header);
        } catch (WireCheck.Malformed e) {
            throw fail(topic, data, (e.truncated() ? "truncated: " : "") + e.getMessage() + " (written as "
                    + writer + ")");
        }
        try {
            return decoders.get().decode(data);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException(message(topic, data, "cannot read " + writer + " as the current "
                    + typeName + ": " + e), e);
        }
    }

    @Override
    public String toString() {
        return "AvroSerde[" + typeName + "]";
    }

    private SerializationException fail(String topic, byte[] data, String why) {
        return new SerializationException(message(topic, data, why));
    }

    private String message(String topic, byte[] data, String why) {
        return "Cannot deserialize " + typeName + topicPart("from", topic) + " (" + data.length + " bytes): " + why;
    }

    private static String topicPart(String preposition, String topic) {
        return topic == null ? "" : " " + preposition + " topic '" + topic + "'";
    }
}
