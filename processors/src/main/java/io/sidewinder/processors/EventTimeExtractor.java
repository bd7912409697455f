package io.sidewinder.processors;

import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Stream time from the readings' own event times, not the records' timestamps: a gateway that uploads a backlog
 * stamps every record with the upload time, and the reorder grace would then order nothing. A record that does
 * not decode, or whose event time is negative or beyond the future tolerance, keeps its record timestamp (or the
 * partition's time when that is negative too), so that it still reaches the processor and its dead letter and
 * cannot throw stream time into the future.
 */
final class EventTimeExtractor implements TimestampExtractor {
    private final Deserializer<SensorReading> readings = AvroSerdes.sensorReading().deserializer();
    private final long futureToleranceMs;

    EventTimeExtractor(long futureToleranceMs) {
        this.futureToleranceMs = futureToleranceMs;
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        long fallback = record.timestamp() >= 0 ? record.timestamp() : Math.max(0, partitionTime);
        if (!(record.value() instanceof byte[] bytes)) {
            return fallback;
        }
        try {
            SensorReading r = readings.deserialize(record.topic(), bytes);
            if (r == null || r.getEventTime() == null) {
                return fallback;
            }
            long t = r.getEventTime().toEpochMilli(), now = System.currentTimeMillis();
            return t >= 0 && !(t > now && t - now > futureToleranceMs) ? t : fallback;
        } catch (RuntimeException e) {
            return fallback;
        }
    }
}
