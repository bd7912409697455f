package io.sidewinder.processors;

import io.sidewinder.ssm.StreamState;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Everything the pipeline keeps per sensor key in the {@link SidewinderTopology#STATE_STORE} store: the model's
 * stream state (as bytes, decoded against the serving model), the model version it belongs to, the last
 * forecast (its first step is the predictive distribution the next reading is scored under), the anomaly
 * statistics, the last score, and a ring buffer of the last K readings for warm model swaps.
 *
 * <p>Binary layout v1 via {@link #toBytes()} (little-endian, like the embedded stream state, so float arrays
 * copy without byte swapping on x86 and ARM): version byte, model version, stream state (length-prefixed), last event time, last forecast mean and
 * stddev (length-prefixed floats), anomaly statistics, last score, then the ring buffer.
 */
public final class KeyState {
    static final byte FORMAT_VERSION = 1;

    long modelVersion = -1;
    /** The decoded stream state for {@link #modelVersion}; null before the first reading or until decoded. */
    StreamState state;
    /** The stream state as stored, when not decoded (yet): decoding needs the serving model's config. */
    byte[] stateBytes;
    long lastEventTime = Long.MIN_VALUE;
    float[] forecastMean;             // [H][C] of the last forecast, null before the first reading
    float[] forecastStd;
    final AnomalyScorer.Stats anomaly = new AnomalyScorer.Stats();
    double lastLikelihood;
    double lastSurprise;
    boolean lastFlagged;
    final Deque<Reading> recent = new ArrayDeque<>();

    /** A reading kept for replay. */
    public record Reading(long eventTime, float[] values) {}

    void remember(long eventTime, float[] values, int capacity) {
        if (capacity <= 0) {
            return;
        }
        while (recent.size() >= capacity) {
            recent.removeFirst();
        }
        recent.addLast(new Reading(eventTime, values.clone()));
    }

    /** True once the key has seen a reading (it then has a stream state, decoded or not). */
    boolean started() {
        return state != null || stateBytes != null;
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

    public long readings() {
        return anomaly.count;
    }

    public int recentReadings() {
        return recent.size();
    }

    private int serializedSize() {
        int stateSize = state != null ? StreamState.serializedSize(state.config()) : stateBytes == null ? 0 : stateBytes.length;
        int size = 1 + 8 + 4 + stateSize + 8 + floatsSize(forecastMean) + floatsSize(forecastStd)
                + AnomalyScorer.Stats.BYTES + 8 + 8 + 1 + 4;
        for (Reading r : recent) {
            size += 8 + floatsSize(r.values());
        }
        return size;
    }

    public byte[] toBytes() {
        ByteBuffer out = ByteBuffer.allocate(serializedSize()).order(ByteOrder.LITTLE_ENDIAN);
        out.put(FORMAT_VERSION);
        out.putLong(modelVersion);
        if (state != null) {
            out.putInt(StreamState.serializedSize(state.config()));
            state.writeTo(out);
        } else if (stateBytes != null) {
            out.putInt(stateBytes.length).put(stateBytes);
        } else {
            out.putInt(-1);
        }
        out.putLong(lastEventTime);
        putFloats(out, forecastMean);
        putFloats(out, forecastStd);
        anomaly.write(out);
        out.putDouble(lastLikelihood);
        out.putDouble(lastSurprise);
        out.put((byte) (lastFlagged ? 1 : 0));
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
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unsupported key state format version " + version);
            }
            KeyState s = new KeyState();
            s.modelVersion = in.getLong();
            int n = in.getInt();
            if (n >= 0) {
                s.stateBytes = new byte[n];
                in.get(s.stateBytes);
            }
            s.lastEventTime = in.getLong();
            s.forecastMean = getFloats(in);
            s.forecastStd = getFloats(in);
            s.anomaly.read(in);
            s.lastLikelihood = in.getDouble();
            s.lastSurprise = in.getDouble();
            s.lastFlagged = in.get() != 0;
            int readings = in.getInt();
            for (int i = 0; i < readings; i++) {
                s.recent.addLast(new Reading(in.getLong(), getFloats(in)));
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
        if (f != null) {
            out.asFloatBuffer().put(f);
            out.position(out.position() + 4 * f.length);
        }
    }

    private static float[] getFloats(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0) return null;
        float[] f = new float[n];
        in.asFloatBuffer().get(f);
        in.position(in.position() + 4 * n);
        return f;
    }
}
