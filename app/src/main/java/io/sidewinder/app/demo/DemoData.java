package io.sidewinder.app.demo;

import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The demo's generated multi-sensor dataset: pumps with two channels (temperature, vibration), a slow and a
 * fast cycle plus noise, irregular gaps (log-normal jitter around 1 s and occasional 30–120 s dropouts),
 * injected anomalies (spikes, level shifts, noise bursts) and, at a configurable rate, bad records of every
 * kind the pipeline must dead-letter. Records come out in event-time order across sensors.
 */
public final class DemoData {
    public static final int CHANNELS = 2;

    /** One record to produce: key, value bytes, event time, and what it is. */
    public record Item(String key, byte[] value, long eventTime, Kind kind) {}

    public enum Kind { READING, ANOMALY, UNDECODABLE, NON_FINITE, WRONG_CHANNELS, FUTURE, OUT_OF_ORDER }

    private final SplittableRandom rnd;
    private final double anomalyRate;
    private final double badRate;
    private final PriorityQueue<Sensor> queue = new PriorityQueue<>((a, b) -> Long.compare(a.nextTime, b.nextTime));
    private int badCursor;

    private static final class Sensor {
        final String id;
        final double phase, base;
        long nextTime;
        long lastTime = Long.MIN_VALUE;
        int step;
        int shiftLeft;
        double shift;
        int burstLeft;

        Sensor(String id, long start, SplittableRandom r) {
            this.id = id;
            this.phase = r.nextDouble() * 2 * Math.PI;
            this.base = 55 + 10 * r.nextDouble();
            this.nextTime = start + r.nextInt(1000);
        }
    }

    public DemoData(int sensors, long startMillis, double anomalyRate, double badRate, long seed) {
        this.rnd = new SplittableRandom(seed);
        this.anomalyRate = anomalyRate;
        this.badRate = badRate;
        for (int i = 0; i < sensors; i++) {
            queue.add(new Sensor(String.format("pump-%02d", i + 1), startMillis, rnd));
        }
    }

    /** Event time of the reading {@link #next()} returns (bad records aside). */
    public long nextEventTime() {
        return queue.peek().nextTime;
    }

    public Item next() {
        Sensor s = queue.poll();
        long t = s.nextTime;
        s.nextTime += nextGap();
        queue.add(s);
        if (badRate > 0 && rnd.nextDouble() < badRate) {
            return bad(s, t);
        }
        boolean anomaly = startOrContinueAnomaly(s);
        float[] v = values(s, t);
        s.lastTime = t;
        s.step++;
        return new Item(s.id, encode(s.id, t, v), t, anomaly ? Kind.ANOMALY : Kind.READING);
    }

    private long nextGap() {
        if (rnd.nextDouble() < 0.01) {
            return 30_000 + rnd.nextInt(90_000);
        }
        return Math.max(50, Math.round(1000 * Math.exp(0.3 * rnd.nextGaussian())));
    }

    private boolean startOrContinueAnomaly(Sensor s) {
        if (s.shiftLeft > 0 || s.burstLeft > 0) {
            return true;
        }
        if (s.step > 300 && rnd.nextDouble() < anomalyRate) {
            switch (rnd.nextInt(3)) {
                case 0 -> s.shift = Double.NaN; // one spike
                case 1 -> {
                    s.shiftLeft = 30;
                    s.shift = 4 + 2 * rnd.nextDouble();
                }
                default -> s.burstLeft = 20;
            }
            return true;
        }
        return false;
    }

    float[] values(Sensor s, long t) {
        double sec = t / 1000.0;
        double temp = s.base + 3 * Math.sin(2 * Math.PI * sec / 600 + s.phase) + 0.15 * rnd.nextGaussian();
        double vib = 1.0 + 0.2 * Math.sin(2 * Math.PI * sec / 97 + s.phase) + 0.02 * rnd.nextGaussian();
        if (Double.isNaN(s.shift)) {
            temp += 8 + 4 * rnd.nextDouble();
            vib += 0.6;
            s.shift = 0;
        } else if (s.shiftLeft > 0) {
            temp += s.shift;
            s.shiftLeft--;
        }
        if (s.burstLeft > 0) {
            vib += 0.3 * rnd.nextGaussian();
            s.burstLeft--;
        }
        return new float[] {(float) temp, (float) vib};
    }

    private Item bad(Sensor s, long t) {
        Kind kind = Kind.values()[2 + (badCursor++ % 5)];
        byte[] value = switch (kind) {
            case UNDECODABLE -> ("not avro " + t).getBytes(StandardCharsets.UTF_8);
            case NON_FINITE -> encode(s.id, t, new float[] {Float.NaN, 1f});
            case WRONG_CHANNELS -> encode(s.id, t, new float[] {1f, 2f, 3f});
            case FUTURE -> encode(s.id, System.currentTimeMillis() + 86_400_000L, new float[] {60f, 1f});
            case OUT_OF_ORDER -> encode(s.id, s.lastTime == Long.MIN_VALUE ? t - 3_600_000L : s.lastTime - 60_000L,
                    new float[] {60f, 1f});
            default -> throw new IllegalStateException();
        };
        return new Item(s.id, value, t, kind);
    }

    static byte[] encode(String id, long t, float[] v) {
        List<Float> values = new ArrayList<>(v.length);
        for (float f : v) values.add(f);
        SensorReading r = SensorReading.newBuilder().setSensorId(id).setEventTime(Instant.ofEpochMilli(t))
                .setValues(values).setUnit(null).setQuality(null).build();
        return AvroSerdes.sensorReading().serialize(null, r);
    }

    /** Clean training history for the demo model: {@code length} readings of one sensor from a fresh generator. */
    public static io.sidewinder.trainer.HeadFit.Sequence history(int length, long seed) {
        DemoData d = new DemoData(1, 0, 0, 0, seed);
        long[] times = new long[length];
        float[][] values = new float[length][];
        for (int i = 0; i < length; i++) {
            Sensor cur = d.queue.poll();
            long t = cur.nextTime;
            cur.nextTime += d.nextGap();
            d.queue.add(cur);
            times[i] = t;
            values[i] = d.values(cur, t);
        }
        return new io.sidewinder.trainer.HeadFit.Sequence(times, values);
    }
}
