package io.sidewinder.processors;

import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Stream time from the readings' own event times, not the records' timestamps: a gateway that uploads a backlog
 * stamps every record with the upload time, and the reorder grace would then order nothing. A record that does
 * not decode, or whose event time is negative or beyond the future tolerance, takes the partition's time (the
 * record timestamp only before the partition has one), so that it still reaches the processor and its dead letter
 * and cannot move stream time.
 */
final class EventTimeExtractor implements TimestampExtractor {
    private final Deserializer<SensorReading> readings = AvroSerdes.sensorReading().deserializer();
    private final long futureToleranceMs;

    EventTimeExtractor(long futureToleranceMs) {
        this.futureToleranceMs = futureToleranceMs;
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        // Without a usable event time stream time stays where it is: the record's timestamp (an upload time, for a
        // backlog) would jump it ahead and flush every buffered reading at once.
        long fallback = partitionTime >= 0 ? partitionTime : Math.max(0, record.timestamp());
        if (!(record.value() instanceof byte[] bytes)) {
            return fallback;
        }
        long t = eventTime(record.topic(), bytes);
        long now = System.currentTimeMillis();
        return t >= 0 && !(t > now && t - now > futureToleranceMs) ? t : fallback;
    }

    /** The reading's event time, or -1 when the bytes are not a readable SensorReading. */
    long eventTime(String topic, byte[] bytes) {
        long fast = eventTimeOfCurrentSchema(bytes);
        if (fast != NOT_CURRENT) {
            return fast;
        }
        try {   // another writer schema (or bad bytes): the full decode decides
            SensorReading r = readings.deserialize(topic, bytes);
            return r == null || r.getEventTime() == null ? -1 : r.getEventTime().toEpochMilli();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static final long NOT_CURRENT = Long.MIN_VALUE;
    private static final long FINGERPRINT =
            org.apache.avro.SchemaNormalization.parsingFingerprint64(SensorReading.getClassSchema());

    /**
     * The event time read straight from a value written with the current SensorReading schema (single-object
     * header, fingerprint, then the sensor id string and the event time long), so that the stream does not decode
     * every reading twice; {@link #NOT_CURRENT} for anything else. The processor still decodes and checks it all.
     */
    static long eventTimeOfCurrentSchema(byte[] b) {
        if (b.length < 12 || b[0] != (byte) 0xC3 || b[1] != 0x01
                || java.nio.ByteBuffer.wrap(b, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong() != FINGERPRINT) {
            return NOT_CURRENT;
        }
        long[] at = {10};
        long idLength = zigzag(b, at);
        if (idLength < 0 || idLength > b.length - at[0]) {
            return NOT_CURRENT;
        }
        at[0] += idLength;
        long t = zigzag(b, at);
        return t == NOT_CURRENT ? NOT_CURRENT : t;
    }

    /** An Avro (zig-zag varint) long at at[0], advancing it; NOT_CURRENT when the bytes end or run over 10. */
    private static long zigzag(byte[] b, long[] at) {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at[0] >= b.length) {
                return NOT_CURRENT;
            }
            int v = b[(int) at[0]++];
            raw |= (long) (v & 0x7F) << shift;
            if ((v & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        return NOT_CURRENT;
    }
}
