package io.sidewinder.ssm;

/**
 * A learned seasonal cycle Q of P phases for each series and channel ([P][S·C]), in normalised units or the series'
 * own ({@link ReadoutForm}; CycleNet's residual cycle forecasting):
 * the readout reads its lags with the cycle removed and the forecast gets the cycle of the steps it forecasts back:
 * <pre>
 *   lag'_j,c  = lag_j,c − Q[φ(t−j)][c]          out_t[h·C + c] += Q[φ(t) + 1 + h mod P][c]   h ∈ [0, H)
 * </pre>
 * The phase φ of a reading comes from its event time, {@code floor(t / gap.reference) mod P}, so a daily cycle of
 * hourly readings (P = 24) follows the wall clock through gaps; forecast step h is assumed one reference step after
 * the one before. A 96-reading lookback sees one noisy day of a daily pattern; Q carries the pattern averaged over
 * the whole training history, which is where most of the gain on ETTm1 (P = 96) comes from. A univariate model
 * trained on sensors of S channels keeps one profile per channel (series s = channel s); a series the cycle has no
 * profile for gets none.
 */
public final class SeasonalCycle {
    /** The parameter name of Q, [P][S·C]. */
    public static final String WEIGHT = "cycle.weight";

    private SeasonalCycle() {}

    /** The phase of a reading at {@code eventTime} for a model with a cycle. */
    public static int phase(ModelConfig c, long eventTime) {
        return (int) Math.floorMod(Math.floorDiv(eventTime, c.gap().referenceMillis()), (long) c.cycleLength());
    }

    /** The phase of forecast step {@code step} (0-based) made at a reading of phase {@code phase}. */
    public static int futurePhase(int phase, int step, int length) {
        return (phase + 1 + step) % length;
    }

    /**
     * head[offset + h·C + c] += Q[φ_h][s·C + c]·scale[c] over the H mean rows of a forecast made for series
     * {@code series} at a reading of {@code phase}; {@code scale} null is 1 (Q in normalised units, the
     * {@link ReadoutForm#NORMALISED} form), 1/σ_c for a Q in the series' units (a {@link ReadoutForm#centred} form).
     */
    public static void addToMeans(float[] q, ModelConfig c, int series, int phase, float[] head, int offset,
                                  float[] scale) {
        int ch = c.channels(), cols = c.cycleColumns();
        for (int h = 0; h < c.horizon(); h++) {
            int row = futurePhase(phase, h, c.cycleLength()) * cols + series * ch;
            for (int k = 0; k < ch; k++) head[offset + h * ch + k] += scale == null ? q[row + k] : q[row + k] * scale[k];
        }
    }

    /**
     * lags[offset + j·C + c] −= Q[lagPhases[j]][s·C + c]·scale[c] for the {@code count} lags the key has (the rest
     * stay 0); {@code scale} as in {@link #addToMeans}.
     */
    public static void removeFromLags(float[] q, ModelConfig c, int series, int[] lagPhases, int count, float[] lags,
                                      int offset, float[] scale) {
        int ch = c.channels(), cols = c.cycleColumns();
        for (int j = 0; j < count; j++) {
            int row = lagPhases[j] * cols + series * ch;
            for (int k = 0; k < ch; k++) lags[offset + j * ch + k] -= scale == null ? q[row + k] : q[row + k] * scale[k];
        }
    }
}
