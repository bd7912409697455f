package io.sidewinder.processors;

import java.nio.ByteBuffer;

/**
 * How far a sensor currently is from its own normal baseline, as a score in [0,1] — the state question ("is this
 * sensor running abnormally right now?") beside {@link AnomalyScorer}'s onset question ("did something just
 * change?"). A forecast surprise is high when a regime starts and fades as the model learns it; this score stays
 * high for as long as the sensor stays away from its baseline, the way MSET- or Hotelling-style equipment
 * monitors work.
 *
 * <pre>
 *   x̄_t        = exponential moving average of the reading, per channel (weight 1/smoothing)
 *   baseline   : mean μ and covariance Σ of x̄ over the key's first {@code reference} readings,
 *                then followed slowly (weight 1/adapt) by readings that are not deviating
 *   distance_t = zᵀ (R + λI)⁻¹ z / C,  z = (x̄_t − μ)/σ, R = Σ as a correlation matrix, C channels
 *   score_t    = d / (1 + d),  d = max(0, distance_t − 1)      (0 near the baseline, 0.5 at twice its spread)
 *   deviating  = distance_t ≥ gate
 * </pre>
 * The correlation term catches channels that leave their usual relation while each stays in its own range. A
 * deviating reading never moves the baseline, so a sensor stays flagged while it is off; a deviation that lasts
 * {@code relearn} readings is taken as the new normal: the baseline is learned again.
 * Nothing is scored while the baseline is being learned.
 */
public final class BaselineDeviation {
    /** Ridge on the correlation matrix: keeps the inverse stable when channels are (nearly) collinear. */
    static final double CORRELATION_RIDGE = 1e-3;
    /**
     * Sensors with more channels keep only per-channel variances: a full covariance would grow the key's stored state
     * by C² doubles (8 KB at 32 channels, 2 MB at 500) and its Cholesky by C³/6 per reading.
     */
    public static final int MAX_CORRELATED_CHANNELS = 32;

    private final int referenceReadings;
    private final double smoothing;
    private final double adapt;
    private final double gate;
    private final long relearnReadings;

    public BaselineDeviation(int referenceReadings, int smoothingReadings, int adaptReadings, double gate,
                             long relearnReadings) {
        if (referenceReadings < 2) throw new IllegalArgumentException("the baseline needs >= 2 reference readings");
        if (smoothingReadings < 1 || adaptReadings < 1) throw new IllegalArgumentException("smoothing and adapt must be >= 1 reading");
        if (!(gate >= 1)) throw new IllegalArgumentException("gate must be >= 1 (the baseline's own mean distance)");
        if (relearnReadings < 1) throw new IllegalArgumentException("relearn must be >= 1 reading");
        this.referenceReadings = referenceReadings;
        this.smoothing = 1.0 / smoothingReadings;
        this.adapt = 1.0 / adaptReadings;
        this.gate = gate;
        this.relearnReadings = relearnReadings;
    }

    /** The processor's defaults ({@link SidewinderConfig}). */
    public static BaselineDeviation defaults() {
        return from(new SidewinderConfig(java.util.Map.of()));
    }

    public static BaselineDeviation from(SidewinderConfig c) {
        return new BaselineDeviation(c.getInt(SidewinderConfig.DEVIATION_REFERENCE), c.getInt(SidewinderConfig.DEVIATION_SMOOTHING),
                c.getInt(SidewinderConfig.DEVIATION_ADAPT), c.getDouble(SidewinderConfig.DEVIATION_GATE),
                c.getLong(SidewinderConfig.DEVIATION_RELEARN));
    }

    /** The result for one reading; {@code baselineReady} is false (and the score 0) while the baseline is learned. */
    public record Deviation(boolean baselineReady, double distance, double score, boolean deviating) {
        static final Deviation LEARNING = new Deviation(false, 0, 0, false);
    }

    /** One sensor's baseline: smoothed reading, reference mean and covariance, and counters. */
    public static final class Stats {
        long readings;          // readings seen since the baseline was (re)started
        long deviatingRun;      // consecutive deviating readings
        final double[] smoothed;
        final double[] mean;
        final boolean correlated; // full covariance, or (beyond MAX_CORRELATED_CHANNELS) its diagonal only
        final double[] cov;     // C×C row-major, or C; a scatter sum while learning, a covariance after
        /** Which of the two cov holds: stored, because the reference length may change between runs. */
        byte phase = LEARNING;
        static final byte LEARNING = 0, LEARNED = 1, UNKNOWN = 2;   // UNKNOWN: stored before the phase was
        // Scratch, not state.
        private final double[] z, sd, factor;

        public Stats(int channels) {
            smoothed = new double[channels];
            mean = new double[channels];
            correlated = channels <= MAX_CORRELATED_CHANNELS;
            cov = new double[correlated ? channels * channels : channels];
            z = new double[channels];
            sd = new double[channels];
            factor = new double[correlated ? channels * channels : 0];
        }

        public int channels() {
            return mean.length;
        }

        static int bytes(int channels) {
            return 8 + 8 + 8 * (2 * channels + (channels <= MAX_CORRELATED_CHANNELS ? channels * channels : channels)) + 1;
        }

        void write(ByteBuffer out) {
            out.putLong(readings).putLong(deviatingRun);
            for (double v : smoothed) out.putDouble(v);
            for (double v : mean) out.putDouble(v);
            for (double v : cov) out.putDouble(v);
            out.put(phase == UNKNOWN ? LEARNING : phase);   // UNKNOWN is resolved by the first observe
        }

        /** Reads a baseline; {@code withPhase} is false for key state v3, whose phase the next reading infers. */
        static Stats read(ByteBuffer in, int channels, boolean withPhase) {
            Stats s = new Stats(channels);
            s.readings = in.getLong();
            s.deviatingRun = in.getLong();
            if (s.readings < 0 || s.deviatingRun < 0) throw new IllegalArgumentException("corrupt baseline: negative counters");
            for (int i = 0; i < channels; i++) s.smoothed[i] = in.getDouble();
            for (int i = 0; i < channels; i++) s.mean[i] = in.getDouble();
            for (int i = 0; i < s.cov.length; i++) s.cov[i] = in.getDouble();
            s.phase = withPhase ? in.get() : UNKNOWN;
            if (s.phase != LEARNING && s.phase != LEARNED && s.phase != UNKNOWN) {
                throw new IllegalArgumentException("corrupt baseline: phase " + s.phase);
            }
            return s;
        }

        void restart() {
            phase = LEARNING;
            readings = 0;
            deviatingRun = 0;
            java.util.Arrays.fill(mean, 0);
            java.util.Arrays.fill(cov, 0);
        }
    }

    /** Scores a finite reading against the key's baseline, then learns from it. */
    public Deviation observe(Stats st, float[] values) {
        int c = st.channels();
        if (values.length != c) throw new IllegalArgumentException("baseline has " + c + " channels, reading has " + values.length);
        if (st.readings == 0) {
            for (int i = 0; i < c; i++) st.smoothed[i] = values[i];
        } else {
            for (int i = 0; i < c; i++) st.smoothed[i] += smoothing * (values[i] - st.smoothed[i]);
        }
        if (st.phase == Stats.UNKNOWN) {
            st.phase = st.readings >= referenceReadings ? Stats.LEARNED : Stats.LEARNING;
        }
        if (st.phase == Stats.LEARNING) {
            if (st.readings < referenceReadings) {
                learnReference(st);
                return Deviation.LEARNING;
            }
            finishReference(st);   // the reference length was lowered below what the key has learned
        }
        double distance = distance(st);
        double d = Math.max(0, distance - 1);
        boolean deviating = distance >= gate;
        if (deviating) {
            if (++st.deviatingRun >= relearnReadings) st.restart();
        } else {
            st.deviatingRun = 0;
            follow(st);
        }
        double score = d / (1 + d);
        return new Deviation(true, distance, score, deviating);
    }

    /** Welford's running mean and scatter; on the last reference reading the scatter becomes the covariance. */
    private void learnReference(Stats st) {
        int c = st.channels();
        long n = ++st.readings;
        for (int i = 0; i < c; i++) {
            st.z[i] = st.smoothed[i] - st.mean[i];
            st.mean[i] += st.z[i] / n;
        }
        for (int i = 0; i < c; i++) {
            double after = st.smoothed[i] - st.mean[i];
            if (st.correlated) {
                for (int j = 0; j < c; j++) st.cov[i * c + j] += after * st.z[j];
            } else {
                st.cov[i] += after * st.z[i];
            }
        }
        if (n >= referenceReadings) {
            finishReference(st);
        }
    }

    /** The scatter sum becomes the covariance of the readings learned so far. */
    private static void finishReference(Stats st) {
        long n = Math.max(1, st.readings);
        for (int i = 0; i < st.cov.length; i++) st.cov[i] /= n;
        if (st.correlated) symmetrise(st.cov, st.channels());
        st.phase = Stats.LEARNED;
    }

    private void follow(Stats st) {
        int c = st.channels();
        st.readings++;
        for (int i = 0; i < c; i++) st.z[i] = st.smoothed[i] - st.mean[i];
        for (int i = 0; i < c; i++) {
            st.mean[i] += adapt * st.z[i];
            if (st.correlated) {
                for (int j = 0; j < c; j++) st.cov[i * c + j] = (1 - adapt) * st.cov[i * c + j] + adapt * st.z[i] * st.z[j];
            } else {
                st.cov[i] = (1 - adapt) * st.cov[i] + adapt * st.z[i] * st.z[i];
            }
        }
    }

    /** zᵀ(R + λI)⁻¹z / C through a Cholesky factor of the regularised correlation matrix (R = I without correlations). */
    private static double distance(Stats st) {
        int c = st.channels();
        double[] sd = st.sd, z = st.z, f = st.factor;
        for (int i = 0; i < c; i++) {
            // A channel that was constant through the reference still has a floor: any later change is a deviation.
            double variance = st.cov[st.correlated ? i * c + i : i];
            sd[i] = Math.max(Math.sqrt(Math.max(variance, 0)), 1e-9 + 1e-6 * Math.abs(st.mean[i]));
            z[i] = (st.smoothed[i] - st.mean[i]) / sd[i];
        }
        if (!st.correlated) {
            double sum = 0;
            for (int i = 0; i < c; i++) sum += z[i] * z[i];
            return sum / (1 + CORRELATION_RIDGE) / c;
        }
        // Lower-triangular Cholesky of R + λI (row i reads only rows before it), then L w = z; the distance is |w|².
        double sum = 0;
        for (int i = 0; i < c; i++) {
            for (int j = 0; j <= i; j++) {
                double r = i == j ? 1 + CORRELATION_RIDGE : Math.max(-1, Math.min(1, st.cov[i * c + j] / (sd[i] * sd[j])));
                for (int k = 0; k < j; k++) r -= f[i * c + k] * f[j * c + k];
                f[i * c + j] = i == j ? Math.sqrt(Math.max(r, CORRELATION_RIDGE)) : r / f[j * c + j];
            }
            double w = z[i];
            for (int k = 0; k < i; k++) w -= f[i * c + k] * z[k];
            z[i] = w / f[i * c + i];
            sum += z[i] * z[i];
        }
        return sum / c;
    }

    private static void symmetrise(double[] m, int c) {
        for (int i = 0; i < c; i++) {
            for (int j = 0; j < i; j++) {
                double v = 0.5 * (m[i * c + j] + m[j * c + i]);
                m[i * c + j] = v;
                m[j * c + i] = v;
            }
        }
    }
}
