package io.sidewinder.processors;

import java.nio.ByteBuffer;

/**
 * Turns the surprise of a reading under the previous step's predictive distribution into a per-sensor
 * anomaly likelihood in [0,1], relative to that sensor's own recent surprises (NAB-style anomaly likelihood):
 * <pre>
 *   surprise_t   = mean over channels of ((x − μ)/σ)²           (μ, σ: the one-step forecast made at t−1)
 *   long window  : EW mean m and variance v of log1p(surprise)  (weight 1/min(n, longWindow))
 *   short window : EW mean s of log1p(surprise)                 (weight 1/min(n, shortWindow))
 *   likelihood_t = Φ((s − m) / sqrt(v))                          (computed against the stats before t)
 * </pre>
 * A level shift or a new noise level raises the surprise until the long window has learned it, so it is
 * flagged once rather than forever. Nothing is flagged during the warm-up.
 *
 * <p>With an extreme-value weight w > 0, the same likelihood is also computed for {@link ExtremeValues}' surprise
 * (how far the reading lies outside the sensor's long-run values) and the two are combined through their tail
 * probabilities: 1 − likelihood = min(1 − L_forecast, (1 − L_extreme) / w). A value far outside anything recent
 * thus counts even where the forecast had already followed the series there, but it needs to be 1/w times rarer
 * than a forecast miss to count as much: it is the cruder evidence.
 */
public final class AnomalyScorer {
    private final int warmup;
    private final double threshold;
    private final int shortWindow;
    private final int longWindow;
    private final double extremeWeight;

    /** A scorer of the forecast surprise alone (extreme-value weight 0). */
    public AnomalyScorer(int warmup, double threshold, int shortWindow, int longWindow) {
        this(warmup, threshold, shortWindow, longWindow, 0);
    }

    public AnomalyScorer(int warmup, double threshold, int shortWindow, int longWindow, double extremeWeight) {
        if (!(extremeWeight >= 0 && extremeWeight <= 1)) throw new IllegalArgumentException("extreme-value weight must be in [0, 1]");
        this.extremeWeight = extremeWeight;
        this.warmup = warmup;
        this.threshold = threshold;
        this.shortWindow = shortWindow;
        this.longWindow = longWindow;
    }

    public static AnomalyScorer from(SidewinderConfig c) {
        return new AnomalyScorer(c.getInt(SidewinderConfig.ANOMALY_WARMUP), c.getDouble(SidewinderConfig.ANOMALY_THRESHOLD),
                c.getInt(SidewinderConfig.ANOMALY_SHORT_WINDOW), c.getInt(SidewinderConfig.ANOMALY_LONG_WINDOW),
                c.getDouble(SidewinderConfig.ANOMALY_EXTREME_WEIGHT));
    }

    /** Readings over which a sensor's usual surprise, and its long-run values, are learned. */
    public int longWindow() {
        return longWindow;
    }

    /** Per-sensor statistics of past surprises. */
    public static final class Stats {
        long count;
        double longMean;
        double longVar;
        double shortMean;

        static final int BYTES = 4 * 8;

        void write(ByteBuffer out) {
            out.putLong(count).putDouble(longMean).putDouble(longVar).putDouble(shortMean);
        }

        void copyFrom(Stats o) {
            count = o.count;
            longMean = o.longMean;
            longVar = o.longVar;
            shortMean = o.shortMean;
        }

        void read(ByteBuffer in) {
            count = in.getLong();
            longMean = in.getDouble();
            longVar = in.getDouble();
            shortMean = in.getDouble();
        }
    }

    public record Score(double surprise, double likelihood, boolean flagged) {}

    /** Standardised squared error of a reading under N(mean, std²), averaged over channels. */
    public static double surprise(float[] observed, float[] mean, float[] std) {
        double s = 0;
        for (int i = 0; i < observed.length; i++) {
            double z = ((double) observed[i] - mean[i]) / Math.max(std[i], 1e-12);   // double: no overflow at ±3.4e38
            s += z * z;
        }
        return s / observed.length;
    }

    /** Scores a forecast surprise against the stats, then learns it. */
    public Score score(Stats st, double surprise) {
        double likelihood = learn(st, surprise);
        return new Score(surprise, likelihood, flag(st, likelihood));
    }

    /**
     * Scores a forecast surprise and an extreme-value surprise, each against its own stats (then learned), and
     * combines their likelihoods (see the class comment).
     */
    public Score score(Stats st, double surprise, Stats extremeStats, double extremeSurprise) {
        double forecast = learn(st, surprise);
        double extreme = learn(extremeStats, extremeSurprise);
        double likelihood = extremeWeight > 0 ? 1 - Math.min(1 - forecast, (1 - extreme) / extremeWeight) : forecast;
        return new Score(surprise, likelihood, flag(st, likelihood));
    }

    private boolean flag(Stats st, double likelihood) {
        return st.count > warmup && likelihood >= threshold; // count already includes this reading
    }

    /** The likelihood of a surprise against the stats before it; then the stats learn it. */
    public double learn(Stats st, double surprise) {
        // log1p tames the heavy tail of squared errors so that mean and variance describe "usual" surprise.
        double s = Math.log1p(Double.isFinite(surprise) ? Math.min(surprise, 1e12) : 1e12);
        double likelihood = 0.5;
        if (st.count >= 2) {
            double shortNext = st.shortMean + (s - st.shortMean) / Math.min(st.count + 1, shortWindow);
            double sd = Math.sqrt(Math.max(st.longVar, 1e-12));
            likelihood = normalCdf((shortNext - st.longMean) / sd);
        }
        st.count++;
        double aLong = 1.0 / Math.min(st.count, longWindow);
        double d = s - st.longMean;
        st.longMean += aLong * d;
        st.longVar = (1 - aLong) * (st.longVar + aLong * d * d);
        st.shortMean += (s - st.shortMean) / Math.min(st.count, shortWindow);
        return likelihood;
    }

    /** Standard normal CDF. */
    public static double normalCdf(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2));
    }

    /** Complementary error function (Numerical Recipes' erfcc, fractional error below 1.2e-7 everywhere). */
    public static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
