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

    /** Inputs, gaps, targets and the statistics at every position of one window. */
    public record Sample(double[] x, double[] gaps, double[] targets, double[][] mean, double[][] std) {}

    /**
     * Positions at the start of a window without targets: the causal normaliser has seen too few readings
     * for its scale to mean anything (the stream's warm-up).
     */
    public static final int MIN_CONTEXT = 24;

    public static Sample sample(ModelConfig c, Series s, Window w) {
        int ch = c.channels(), len = w.length(), h = c.horizon();
        double[] x = new double[len * ch], gaps = new double[len], targets = new double[len * h * ch];
        double[][] mean = new double[len][ch], std = new double[len][ch];
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
                    targets[(t * h + i) * ch + k] = t >= Math.min(MIN_CONTEXT, len - 1) && target < w.targetLimit()
                            && target < s.rows()
                            ? (s.values()[target][k] - mean[t][k]) / std[t][k] : Double.NaN;
                }
            }
        }
        return new Sample(x, gaps, targets, mean, std);
    }
}
