package io.sidewinder.ssm;

/**
 * The one gap function shared by the trainer and the stream: how the real time between two readings
 * scales the model's step Δ (as S4/S5 do for irregular sampling), and the log-gap input feature.
 *
 * <p>The ratio τ = gap / τ_ref is clamped to [minRatio, maxRatio]: a zero gap would make dA = 1, dB = 0
 * (the reading ignored) and an unbounded one would only push exp(ΔA) further into underflow.
 *
 * @param referenceMillis τ_ref, the nominal sampling interval the model was trained at
 * @param minRatio smallest τ/τ_ref used
 * @param maxRatio largest τ/τ_ref used
 */
public record GapScaling(long referenceMillis, double minRatio, double maxRatio) {

    public static final GapScaling DEFAULT = new GapScaling(1_000L, 0.05, 1_000.0);

    public GapScaling {
        if (referenceMillis <= 0) {
            throw new IllegalArgumentException("referenceMillis must be > 0, got " + referenceMillis);
        }
        if (!(minRatio > 0) || !(maxRatio >= minRatio) || !Double.isFinite(maxRatio)) {
            throw new IllegalArgumentException(
                    "need 0 < minRatio <= maxRatio < inf, got [" + minRatio + ", " + maxRatio + "]");
        }
    }

    /** τ/τ_ref for a gap in milliseconds, clamped; the first reading of a key (no previous) counts as 1. */
    public float ratio(long gapMillis) {
        double r = (double) gapMillis / referenceMillis;
        return (float) Math.min(maxRatio, Math.max(minRatio, r));
    }

    /** Ratio between two event times; {@code previous == NONE} means "no previous reading". */
    public float ratio(long previousMillis, long currentMillis) {
        return previousMillis == NONE ? 1f : ratio(currentMillis - previousMillis);
    }

    /** The input feature that tells the (spacing-blind) conv and projections how far apart readings are. */
    public static float logGapFeature(float ratio) {
        return (float) Math.log(ratio);
    }

    /** Marker for "no previous reading". */
    public static final long NONE = Long.MIN_VALUE;
}
