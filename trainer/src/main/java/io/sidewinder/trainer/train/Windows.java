package io.sidewinder.trainer.train;

import io.sidewinder.ssm.CausalNormalizer;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.ModelConfig;

/**
 * Training windows and how a window becomes model inputs and targets — through the stream's own path: the
 * shared gap function and a fresh causal normaliser, updated with x_t before x_t is normalised; the targets of
 * position t (the next H readings) are normalised with the statistics at t, as the stream denormalises the
 * forecast it makes at t.
 */
public final class Windows {
    private Windows() {}

    /** A series: event times and [rows][channels] values. */
    public record Series(long[] times, float[][] values) {
        public int rows() {
            return times.length;
        }
    }

    /**
     * Rows [start, start + length) of a series are the inputs; targets may use rows before {@code targetLimit}
     * (the end of the split), missing ones are NaN.
     */
    public record Window(int series, int start, int length, int targetLimit) {}

    /**
     * Inputs, gaps, targets and the statistics at every position of one window; lags ([L][K][C], null when the
     * model has no readout) are the readout's inputs: reading t−j normalised with the statistics at t, 0 before the
     * window's first reading (the stream's {@link io.sidewinder.ssm.LagReadout.History} of a fresh key).
     */
    public record Sample(double[] x, double[] gaps, double[] targets, double[][] mean, double[][] std, double[] lags) {}

    /**
     * Positions at the start of a window without targets: the causal normaliser has seen too few readings
     * for its scale to mean anything (the stream's warm-up).
     */
    public static final int MIN_CONTEXT = 24;

    /** What {@link #sample} gives at a window's last position only: lags [K][C], targets [H][C], std [C]. */
    public record LastPosition(double[] lags, double[] targets, double[] std) {}

    /** {@link #sample}'s readout inputs, targets and σ at the window's last position, without the other positions. */
    public static LastPosition last(ModelConfig c, Series s, Window w) {
        int ch = c.channels(), len = w.length(), h = c.horizon(), kk = c.readoutLags();
        CausalNormalizer norm = CausalNormalizer.forConfig(c);
        for (int t = 0; t < len; t++) norm.update(s.values()[w.start() + t]);
        int row = w.start() + len - 1;
        double[] lags = new double[kk * ch], targets = new double[h * ch], std = new double[ch];
        for (int k = 0; k < ch; k++) {
            double mean = norm.mean(k);
            std[k] = norm.std(k);
            for (int j = 0; j < kk && j < len; j++) lags[j * ch + k] = (s.values()[row - j][k] - mean) / std[k];
            for (int i = 0; i < h; i++) {
                int target = row + 1 + i;
                targets[i * ch + k] = target < w.targetLimit() && target < s.rows()
                        ? (s.values()[target][k] - mean) / std[k] : Double.NaN;
            }
        }
        return new LastPosition(lags, targets, std);
    }

    public static Sample sample(ModelConfig c, Series s, Window w) {
        int ch = c.channels(), len = w.length(), h = c.horizon();
        double[] x = new double[len * ch], gaps = new double[len], targets = new double[len * h * ch];
        double[][] mean = new double[len][ch], std = new double[len][ch];
        int kk = c.readoutLags();
        double[] lags = new double[len * kk * ch];
        // No target before the normaliser has a scale, nor before the readout has its K readings: the readout is
        // fitted for a full history, and the Mamba layers should learn what it misses there, not its zero padding.
        int firstTarget = Math.min(Math.max(MIN_CONTEXT, kk - 1), len - 1);
        CausalNormalizer norm = CausalNormalizer.forConfig(c);
        float[] xn = new float[ch];
        long prev = GapScaling.NONE;
        for (int t = 0; t < len; t++) {
            int row = w.start() + t;
            gaps[t] = c.gap().ratio(prev, s.times()[row]);
            prev = s.times()[row];
            norm.update(s.values()[row]);
            norm.normalize(s.values()[row], xn);
            for (int k = 0; k < ch; k++) {
                x[t * ch + k] = xn[k];
                mean[t][k] = norm.mean(k);
                std[t][k] = norm.std(k);
            }
            for (int i = 0; i < h; i++) {
                int target = row + 1 + i;
                for (int k = 0; k < ch; k++) {
                    targets[(t * h + i) * ch + k] = t >= firstTarget && target < w.targetLimit()
                            && target < s.rows()
                            ? (s.values()[target][k] - mean[t][k]) / std[t][k] : Double.NaN;
                }
            }
            for (int j = 0; j < kk && j <= t; j++) {
                for (int k = 0; k < ch; k++) {
                    lags[(t * kk + j) * ch + k] = (s.values()[row - j][k] - mean[t][k]) / std[t][k];
                }
            }
        }
        return new Sample(x, gaps, targets, mean, std, kk > 0 ? lags : null);
    }
}
