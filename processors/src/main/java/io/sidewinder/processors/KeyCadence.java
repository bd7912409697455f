package io.sidewinder.processors;

import java.nio.ByteBuffer;

/**
 * Maps a key's event times onto the time axis a model expects. A model trained at a fixed sampling interval
 * takes real gaps ({@link Mode#MODEL}: identity). A general model serving sensors of any cadence takes gaps
 * relative to the key's own typical interval ({@link Mode#KEY}): a geometric running mean of the key's gaps
 * (weight 1/min(n, 100)), so a 5-minute metric and a 1 Hz sensor both step at τ ≈ 1 and a late reading still
 * counts as a longer step.
 */
public final class KeyCadence {
    public enum Mode { MODEL, KEY }

    static final int WINDOW = 100;
    static final int BYTES = 8 + 8 + 8 + 8;

    private long readings;
    private long lastEventTime;
    private double meanLogGap;
    private long modelTime;

    /** The model-time of a reading at {@code eventTime} (not before the previous one); learns the gap. */
    public long advance(long eventTime, Mode mode, long referenceMillis) {
        double logGap = 0;
        if (readings > 0) {
            // Learned in both modes, so that a switch of sidewinder.gap.mode to 'key' finds the key's cadence known.
            logGap = Math.log(Math.max(1, eventTime - lastEventTime));
            meanLogGap = readings == 1 ? logGap : meanLogGap + (logGap - meanLogGap) / Math.min(readings, WINDOW);
        }
        if (mode == Mode.MODEL) {
            readings++;
            lastEventTime = eventTime;
            modelTime = eventTime;
            return eventTime;
        }
        if (readings > 0) {
            modelTime += Math.round(referenceMillis * Math.exp(logGap - meanLogGap));
        }
        readings++;
        lastEventTime = eventTime;
        return modelTime;
    }

    void write(ByteBuffer out) {
        out.putLong(readings).putLong(lastEventTime).putDouble(meanLogGap).putLong(modelTime);
    }

    static KeyCadence read(ByteBuffer in) {
        KeyCadence k = new KeyCadence();
        k.readFrom(in);
        return k;
    }

    private void readFrom(ByteBuffer in) {
        readings = in.getLong();
        lastEventTime = in.getLong();
        meanLogGap = in.getDouble();
        modelTime = in.getLong();
    }
}
