package io.sidewinder.processors;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Everything the pipeline keeps per sensor key in the {@link SidewinderTopology#STATE_STORE} store: the model's
 * stream state (as bytes, decoded against the serving model), the model version it belongs to, the last
 * forecast (its first step is the predictive distribution the next reading is scored under), the anomaly
 * statistics, the last score, and a ring buffer of the last K readings for warm model swaps.
 *
 * <p>Binary layout v1 via {@link #toBytes()}: version byte, then the fields in declaration order.
 */
public final class KeyState {
    static final byte FORMAT_VERSION = 1;

    long modelVersion = -1;
    byte[] streamState;               // StreamState.toBytes() for modelVersion, null before the first reading
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

    public byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + (streamState == null ? 0 : streamState.length));
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(FORMAT_VERSION);
            out.writeLong(modelVersion);
            writeBytes(out, streamState);
            out.writeLong(lastEventTime);
            writeFloats(out, forecastMean);
            writeFloats(out, forecastStd);
            anomaly.write(out);
            out.writeDouble(lastLikelihood);
            out.writeDouble(lastSurprise);
            out.writeBoolean(lastFlagged);
            out.writeInt(recent.size());
            for (Reading r : recent) {
                out.writeLong(r.eventTime());
                writeFloats(out, r.values());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static KeyState fromBytes(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            byte version = in.readByte();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unsupported key state format version " + version);
            }
            KeyState s = new KeyState();
            s.modelVersion = in.readLong();
            s.streamState = readBytes(in);
            s.lastEventTime = in.readLong();
            s.forecastMean = readFloats(in);
            s.forecastStd = readFloats(in);
            s.anomaly.read(in);
            s.lastLikelihood = in.readDouble();
            s.lastSurprise = in.readDouble();
            s.lastFlagged = in.readBoolean();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                s.recent.addLast(new Reading(in.readLong(), readFloats(in)));
            }
            return s;
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt key state: " + e.getMessage(), e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b == null ? -1 : b.length);
        if (b != null) out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) return null;
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private static void writeFloats(DataOutputStream out, float[] f) throws IOException {
        out.writeInt(f == null ? -1 : f.length);
        if (f != null) for (float v : f) out.writeFloat(v);
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) return null;
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = in.readFloat();
        return f;
    }
}
