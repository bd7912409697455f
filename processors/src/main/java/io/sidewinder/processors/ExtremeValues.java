package io.sidewinder.processors;

import java.nio.ByteBuffer;

/**
 * How far a reading lies outside its sensor's own long-run values: the mean over channels of its squared z-score
 * against an exponentially weighted mean and variance of the readings before it (NAB's windowed Gaussian, made
 * incremental). A forecaster that adapts quickly can find a value it has never seen plausible once the series
 * has started to move; this catches it. {@link AnomalyScorer} turns it into evidence beside the forecast surprise.
 */
public final class ExtremeValues {
    private ExtremeValues() {}

    /** One sensor's long-run values and the history of its extreme-value surprises. */
    public static final class Stats {
        long count;
        final double[] mean;
        final double[] var;
        final AnomalyScorer.Stats surprises = new AnomalyScorer.Stats();

        public Stats(int channels) {
            mean = new double[channels];
            var = new double[channels];
        }

        public int channels() {
            return mean.length;
        }

        static int bytes(int channels) {
            return 8 + 16 * channels + AnomalyScorer.Stats.BYTES;
        }

        void write(ByteBuffer out) {
            out.putLong(count);
            for (double v : mean) out.putDouble(v);
            for (double v : var) out.putDouble(v);
            surprises.write(out);
        }

        static Stats read(ByteBuffer in, int channels) {
            Stats s = new Stats(channels);
            s.count = in.getLong();
            if (s.count < 0) throw new IllegalArgumentException("corrupt extreme-value stats: negative count");
            for (int i = 0; i < channels; i++) s.mean[i] = in.getDouble();
            for (int i = 0; i < channels; i++) s.var[i] = in.getDouble();
            s.surprises.read(in);
            return s;
        }
    }

    /**
     * The reading's surprise against the values before it (0 until two readings are in), then learns it with
     * weight 1/min(n, window).
     */
    public static double surprise(Stats st, float[] values, int window) {
        int c = st.channels();
        if (values.length != c) throw new IllegalArgumentException("stats have " + c + " channels, reading has " + values.length);
        double s = 0;
        if (st.count >= 2) {
            for (int i = 0; i < c; i++) {
                double d = values[i] - st.mean[i];
                s += d * d / Math.max(st.var[i], 1e-12);
            }
            s /= c;
        }
        if (st.count == 0) {
            for (int i = 0; i < c; i++) st.mean[i] = values[i];
        }
        st.count++;
        double a = 1.0 / Math.min(st.count, window);
        for (int i = 0; i < c; i++) {
            double d = values[i] - st.mean[i];
            st.mean[i] += a * d;
            st.var[i] = (1 - a) * (st.var[i] + a * d * d);
        }
        return s;
    }
}
