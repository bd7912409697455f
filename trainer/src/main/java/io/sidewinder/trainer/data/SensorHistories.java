package io.sidewinder.trainer.data;

import io.sidewinder.schemas.SensorReading;
import io.sidewinder.trainer.train.Windows;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Readings grouped per sensor and ordered by event time — the one ordering rule the stream also applies (readings
 * not after the sensor's previous one are dropped, as the stream dead-letters them), with non-finite readings and
 * readings of a different channel count than the sensor's first also dropped and counted.
 */
public final class SensorHistories {
    private final Map<String, List<SensorReading>> bySensor = new TreeMap<>();
    private long dropped;

    public void add(SensorReading r) {
        bySensor.computeIfAbsent(r.getSensorId(), k -> new ArrayList<>()).add(r);
    }

    /** Readings dropped by {@link #series()} (non-finite or out of range, wrong channel count, not after the previous one). */
    public long dropped() {
        return dropped;
    }

    public int sensors() {
        return bySensor.size();
    }

    /** Every sensor's history as a series, in sensor id order. */
    public Map<String, Windows.Series> series() {
        return series(io.sidewinder.ssm.CausalNormalizer.MAX_ABS_READING);
    }

    /** As above, leaving out readings with a value beyond ±{@code maxAbs} (the stream's sidewinder.max.abs.value). */
    public Map<String, Windows.Series> series(double maxAbs) {
        dropped = 0;
        Map<String, Windows.Series> out = new TreeMap<>();
        bySensor.forEach((id, readings) -> {
            List<SensorReading> sorted = new ArrayList<>(readings);
            sorted.sort(Comparator.comparing(SensorReading::getEventTime)); // stable: equal times keep arrival order
            int channels = sorted.getFirst().getValues().size();
            List<Long> times = new ArrayList<>();
            List<float[]> values = new ArrayList<>();
            for (SensorReading r : sorted) {
                long t = r.getEventTime().toEpochMilli();
                float[] v = new float[r.getValues().size()];
                boolean ok = v.length == channels && (times.isEmpty() || t > times.getLast());
                for (int i = 0; ok && i < v.length; i++) {
                    v[i] = r.getValues().get(i);
                    ok = Float.isFinite(v[i]) && Math.abs(v[i]) <= maxAbs;
                }
                if (ok) {
                    times.add(t);
                    values.add(v);
                } else {
                    dropped++;
                }
            }
            out.put(id, new Windows.Series(times.stream().mapToLong(Long::longValue).toArray(),
                    values.toArray(float[][]::new)));
        });
        return out;
    }

    /** Reads an Avro container file of SensorReading records. */
    public static SensorHistories readAvro(Path file) throws IOException {
        SensorHistories h = new SensorHistories();
        try (DataFileReader<SensorReading> r = new DataFileReader<>(file.toFile(),
                new SpecificDatumReader<>(SensorReading.class))) {
            while (r.hasNext()) {
                h.add(r.next());
            }
        }
        return h;
    }
}
