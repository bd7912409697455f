package io.sidewinder.ssm;

/**
 * How a model's {@link LagReadout} and {@link SeasonalCycle} meet the causal normaliser (μ_t, σ_t at the forecast's
 * reading t). With lags x_{t−j}, cycle Q and the head's own output o_h (normalised units), the forecast mean of step h is
 * <pre>
 *   NORMALISED:  ŷ_h = μ_t + σ_t·(o_h + Σ_j W[h][j]·((x_{t−j} − μ_t)/σ_t − Q[φ_j]) + Q[φ_h])
 *   RESIDUAL:    ŷ_h = m_t + Q[φ_h] + σ_t·(o_h + Σ_j W[h][j]·(r_{t−j} − m_t)/σ_t)
 *                with r_{t−j} = x_{t−j} − Q[φ_j] and m_t the mean of the r over the lags the key has
 *   LAST_VALUE:  the same with m_t = r_t, the latest reading less its cycle, plus an offset b[h] in the series' units
 * </pre>
 * NORMALISED keeps Q in normalised units, so the cycle's amplitude follows the window's σ_t. RESIDUAL (CycleNet's
 * form) keeps Q in the series' own units: the readout forecasts the series less its cycle around that residual's own
 * recent level, and the cycle is added back at its learned amplitude. On ETTh1-96 (M) the closed-form fits score
 * validation MSE 0.697 vs 0.687 and test 0.379 vs 0.370 (numpy re-implementation, trainer README); without a cycle
 * and with a normaliser over exactly the lags the two forms are the same model.
 *
 * LAST_VALUE is NLinear's normalisation: the readout forecasts the change from the latest reading, so its ridge
 * shrinks towards "repeat the last value" rather than towards the lags' mean, and its offset (NLinear's bias) is the
 * mean change over h steps in the series' own units, not scaled with the window's σ_t (the head's bias is). On ETTh1 S
 * (horizon 96) a closed-form ridge in this form scores test MSE 0.0524 against 0.0538 for the other two, and 0.0532
 * with its offset scaled by σ_t instead (bench/studies, trainer README).
 *
 * <p>MIXED is an ensemble's form ({@link ModelConfig#members()} K &ge; 2): members alternate NORMALISED (even k) and
 * RESIDUAL (odd k), each with its own readout and cycle, and the model serves the mean of the members' forecasts.
 * The two forms err differently, so their mean beats two members of one form (ETTm1-96, trainer README).
 */
public enum ReadoutForm {
    /** Lags z-scored with the normaliser's statistics at t; the cycle in normalised units. */
    NORMALISED,
    /** Lags less the cycle, centred on their own mean; the cycle in the series' units. */
    RESIDUAL,
    /** An ensemble whose members alternate NORMALISED and RESIDUAL, each with its own readout and cycle. */
    MIXED,
    /** Lags less the cycle, centred on the latest one (NLinear's form); the cycle in the series' units. */
    LAST_VALUE;

    /** True when the form adds the readout's offset {@link LagReadout#OFFSET} (LAST_VALUE only). */
    public boolean hasOffset() {
        return this == LAST_VALUE;
    }

    /** True when the lags are centred and the cycle is in the series' units (RESIDUAL and LAST_VALUE). */
    public boolean centred() {
        return this == RESIDUAL || this == LAST_VALUE;
    }

    /**
     * The centre m_t of a key's {@code count} lags ({@code lag.applyAsDouble(j)}, j = 0 the latest reading): their
     * mean under RESIDUAL (summed, then divided), lag 0 under LAST_VALUE; 0 without lags. A constant shift of the lags
     * moves m_t by the same amount and the centred lags not at all.
     */
    public double centre(java.util.function.IntToDoubleFunction lag, int count) {
        if (!centred()) throw new IllegalStateException(this + " does not centre its lags");
        if (count == 0) return 0;
        if (this == LAST_VALUE) return lag.applyAsDouble(0);
        double sum = 0;
        for (int j = 0; j < count; j++) sum += lag.applyAsDouble(j);
        return sum / count;
    }

    /**
     * Lag j's part of {@link #centre} for a value x at that lag, for sums over j that are linear in the lags (the
     * cycle's design row): x/count under RESIDUAL, x for lag 0 and 0 for the others under LAST_VALUE.
     */
    public double centreShare(double x, int j, int count) {
        if (!centred()) throw new IllegalStateException(this + " does not centre its lags");
        if (j < 0 || j >= count) throw new IllegalArgumentException("lag " + j + " outside 0.." + (count - 1));
        return this == RESIDUAL ? x / count : j == 0 ? x : 0;
    }

    /** The form of ensemble member k under this form: itself, except under MIXED. */
    public ReadoutForm ofMember(int k) {
        if (k < 0) throw new IllegalArgumentException("member must be >= 0, got " + k);
        return this != MIXED ? this : k % 2 == 0 ? NORMALISED : RESIDUAL;
    }
}
