package io.sidewinder.processors;

import io.sidewinder.ssm.StreamState;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Everything the pipeline keeps per sensor key in the {@link SidewinderTopology#STATE_STORE} store: the
 * detector's state (model states — one, or one per channel for a univariate model — kept as bytes until decoded
 * against the serving model, the pending one-step forecast, surprise statistics, cadence), the model version it
 * belongs to, the last full forecast, the last score, and a ring buffer of the last K readings for warm model
 * swaps.
 *
 * <p>Binary layout v4 via {@link #toBytes()} (little-endian, like the embedded stream state, so float arrays copy
 * without byte swapping on x86 and ARM): version byte, model version, model tag, model-state count and each model
 * state (length-prefixed), detector state (its baseline with its phase), last event time, last forecast mean and
 * stddev (length-prefixed floats), last score, last deviation, then the ring buffer. v3 (no model tag, no baseline
 * phase) and v2 (no baseline, no last deviation either) are still read.
 */
public final class KeyState {
    static final byte FORMAT_VERSION = 4;
    /** v3 had no model tag and no baseline phase: its model states are matched by version alone. */
    static final byte FORMAT_VERSION_WITHOUT_TAG = 3;
    /** v2 had no baseline in the detector state; such a key starts learning its baseline afresh. */
    static final byte FORMAT_VERSION_WITHOUT_BASELINE = 2;

    long modelVersion = -1;
    /** Identity of the model's config and weights the model states belong to (0: unknown, stored by v3). */
    long modelTag;
    /** Null before the key's first reading. */
    SensorDetector.State detector;
    /** Model states as stored, until decoded against the serving model's config. */
    byte[][] encodedStreams;
    long lastEventTime = Long.MIN_VALUE;
    float[] forecastMean;             // [H][C] of the last forecast, null before the first reading
    float[] forecastStd;
    double lastLikelihood;
    double lastSurprise;
    boolean lastFlagged;
    double lastDeviation;
    boolean lastDeviating;
    /** The ring buffer; changed only through remember / dropOldestReading / fromBytes, which keep its size. */
    final Deque<Reading> recent = new ArrayDeque<>();
    /** Serialized bytes of {@link #recent}, kept as it changes: the state is written on every reading. */
    private int recentBytes;

    /** A reading kept for replay. */
    public record Reading(long eventTime, float[] values) {}

    void recordScore(AnomalyScorer.Score score, BaselineDeviation.Deviation deviation) {
        lastSurprise = score.surprise();
        lastLikelihood = score.likelihood();
        lastFlagged = score.flagged();
        lastDeviation = deviation.score();
        lastDeviating = deviation.deviating();
    }

    void remember(long eventTime, float[] values, int capacity) {
        if (capacity <= 0) {
            recent.clear();   // a ring kept from a larger setting would be replayed at the next swap, stale
            recentBytes = 0;
            return;
        }
        while (recent.size() >= capacity) {
            dropOldestReading();
        }
        add(new Reading(eventTime, values.clone()));
    }

    /** Gives up the oldest reading of the ring buffer (none: no-op). */
    void dropOldestReading() {
        Reading r = recent.pollFirst();
        if (r != null) recentBytes -= readingSize(r);
    }

    private void add(Reading r) {
        recent.addLast(r);
        recentBytes += readingSize(r);
    }

    private static int readingSize(Reading r) {
        return 8 + floatsSize(r.values());
    }

    public long modelVersion() {
        return modelVersion;
    }

    public long lastEventTime() {
        return lastEventTime;
    }

    public float[] forecastMean() {
        return forecastMean;
    }

    public float[] forecastStd() {
        return forecastStd;
    }

    public double lastLikelihood() {
        return lastLikelihood;
    }

    public double lastSurprise() {
        return lastSurprise;
    }

    public boolean lastFlagged() {
        return lastFlagged;
    }

    public double lastDeviation() {
        return lastDeviation;
    }

    public boolean lastDeviating() {
        return lastDeviating;
    }

    public long readings() {
        return detector == null ? 0 : detector.scored();
    }

    public int recentReadings() {
        return recent.size();
    }

    private int serializedSize() {
        int size = 1 + 8 + 8 + 4;
        if (detector != null && detector.streams != null) {
            for (StreamState s : detector.streams) size += 4 + StreamState.serializedSize(s.config());
        } else if (encodedStreams != null) {
            for (byte[] b : encodedStreams) size += 4 + b.length;
        }
        size += 1 + (detector == null ? 0 : detector.serializedSize());
        size += 8 + floatsSize(forecastMean) + floatsSize(forecastStd) + 8 + 8 + 1 + 8 + 1 + 4;
        return size + recentBytes;
    }

    public byte[] toBytes() {
        ByteBuffer out = ByteBuffer.allocate(serializedSize()).order(ByteOrder.LITTLE_ENDIAN);
        out.put(FORMAT_VERSION);
        out.putLong(modelVersion);
        out.putLong(modelTag);
        if (detector != null && detector.streams != null) {
            out.putInt(detector.streams.length);
            for (StreamState s : detector.streams) {
                out.putInt(StreamState.serializedSize(s.config()));
                s.writeTo(out);
            }
        } else if (encodedStreams != null) {
            out.putInt(encodedStreams.length);
            for (byte[] b : encodedStreams) out.putInt(b.length).put(b);
        } else {
            out.putInt(-1);
        }
        out.put((byte) (detector == null ? 0 : 1));
        if (detector != null) detector.write(out);
        out.putLong(lastEventTime);
        putFloats(out, forecastMean);
        putFloats(out, forecastStd);
        out.putDouble(lastLikelihood);
        out.putDouble(lastSurprise);
        out.put((byte) (lastFlagged ? 1 : 0));
        out.putDouble(lastDeviation);
        out.put((byte) (lastDeviating ? 1 : 0));
        out.putInt(recent.size());
        for (Reading r : recent) {
            out.putLong(r.eventTime());
            putFloats(out, r.values());
        }
        return out.array();
    }

    public static KeyState fromBytes(byte[] data) {
        try {
            ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            byte version = in.get();
            if (version != FORMAT_VERSION && version != FORMAT_VERSION_WITHOUT_TAG
                    && version != FORMAT_VERSION_WITHOUT_BASELINE) {
                throw new IllegalArgumentException("unsupported key state format version " + version);
            }
            KeyState s = new KeyState();
            s.modelVersion = in.getLong();
            s.modelTag = version == FORMAT_VERSION ? in.getLong() : 0;
            int streams = in.getInt();
            if (streams >= 0) {
                if (streams > in.remaining() / 4) throw new IllegalArgumentException("corrupt key state: " + streams + " model states");
                s.encodedStreams = new byte[streams][];
                for (int i = 0; i < streams; i++) {
                    int length = in.getInt();
                    if (length < 0 || length > in.remaining()) {   // never allocate what the bytes cannot hold
                        throw new IllegalArgumentException("corrupt key state: a model state of " + length + " bytes");
                    }
                    s.encodedStreams[i] = new byte[length];
                    in.get(s.encodedStreams[i]);
                }
            }
            if (in.get() != 0) {
                s.detector = SensorDetector.State.read(in, version >= FORMAT_VERSION_WITHOUT_TAG, version == FORMAT_VERSION);
            }
            s.lastEventTime = in.getLong();
            s.forecastMean = getFloats(in);
            s.forecastStd = getFloats(in);
            s.lastLikelihood = in.getDouble();
            s.lastSurprise = in.getDouble();
            s.lastFlagged = in.get() != 0;
            if (version >= FORMAT_VERSION_WITHOUT_TAG) {
                s.lastDeviation = in.getDouble();
                s.lastDeviating = in.get() != 0;
            }
            int readings = in.getInt();
            if (readings < 0 || readings > in.remaining() / 12) {
                throw new IllegalArgumentException("corrupt key state: " + readings + " recent readings");
            }
            for (int i = 0; i < readings; i++) {
                s.add(new Reading(in.getLong(), getFloats(in)));
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException("corrupt key state: " + in.remaining() + " bytes after the end");
            }
            return s;
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException("corrupt key state (" + data.length + " bytes)", e);
        }
    }

    private static int floatsSize(float[] f) {
        return 4 + (f == null ? 0 : 4 * f.length);
    }

    private static void putFloats(ByteBuffer out, float[] f) {
        out.putInt(f == null ? -1 : f.length);
        if (f == null) {
            return;
        }
        if (f.length < 16) {   // a reading's few channels: a view object per array would cost more than the copy
            for (float v : f) out.putFloat(v);
        } else {
            out.asFloatBuffer().put(f);
            out.position(out.position() + 4 * f.length);
        }
    }

    private static float[] getFloats(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0) return null;
        if (n > in.remaining() / 4) throw new IllegalArgumentException("corrupt key state: " + n + " floats");
        float[] f = new float[n];
        in.asFloatBuffer().get(f);
        in.position(in.position() + 4 * n);
        return f;
    }
}
