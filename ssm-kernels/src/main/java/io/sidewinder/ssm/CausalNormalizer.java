package io.sidewinder.ssm;

/**
 * Per-channel running mean and variance that only ever look back: the exact mean/variance of the first
 * {@code window} readings, then an exponential moving estimate with weight 1/window. The trainer and the
 * stream both normalise through this class, in the same order (update with x_t, then normalise x_t and
 * denormalise the forecast made at t), so the model sees the same inputs in both.
 *
 * <p>Statistics are kept in double: they accumulate over the whole life of a key.
 */
public final class CausalNormalizer {
    /**
     * Largest magnitude of a reading that is taken for a measurement: beyond it a value is a device's error code or
     * a sentinel (±3.4e38, 1e30), which would inflate the running variance for days of readings. The stream
     * dead-letters such readings (configurable) and the trainer leaves their rows out.
     */
    public static final double MAX_ABS_READING = 1e18;

    private final int window;
    private final double minStd;
    long count;
    final double[] mean;
    final double[] var;

    public CausalNormalizer(int channels, int window, double minStd) {
        this.window = window;
        this.minStd = minStd;
        this.mean = new double[channels];
        this.var = new double[channels];
    }

    public static CausalNormalizer forConfig(ModelConfig c) {
        return new CausalNormalizer(c.channels(), c.normalizerWindow(), c.normalizerMinStd());
    }

    /** Adds a reading (Welford while count &lt; window, then exponential forgetting). */
    public void update(float[] x) {
        count++;
        double alpha = 1.0 / Math.min(count, window);
        for (int i = 0; i < mean.length; i++) {
            double dx = x[i] - mean[i];
            mean[i] += alpha * dx;
            // Exact population variance for the first readings; EW variance after (West 1979).
            var[i] = (1 - alpha) * (var[i] + alpha * dx * dx);
        }
    }

    public double mean(int channel) {
        return mean[channel];
    }

    /** The standard deviation used for scaling, never below minStd (relative to the level too). */
    public double std(int channel) {
        double floor = Math.max(minStd, 1e-4 * Math.abs(mean[channel]));
        return Math.max(floor, Math.sqrt(var[channel]));
    }

    public void normalize(float[] x, float[] out) {
        for (int i = 0; i < mean.length; i++) {
            out[i] = (float) ((x[i] - mean[i]) / std(i));
        }
    }

    public long count() {
        return count;
    }

    public int channels() {
        return mean.length;
    }

    public CausalNormalizer copy() {
        CausalNormalizer c = new CausalNormalizer(mean.length, window, minStd);
        c.count = count;
        System.arraycopy(mean, 0, c.mean, 0, mean.length);
        System.arraycopy(var, 0, c.var, 0, var.length);
        return c;
    }

    /** Restores statistics (used by the state codec). */
    void restore(long n, double[] means, double[] vars) {
        count = n;
        System.arraycopy(means, 0, mean, 0, mean.length);
        System.arraycopy(vars, 0, var, 0, var.length);
    }
}
