package io.sidewinder.trainer.train;

import io.sidewinder.ssm.CausalNormalizer;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.ssm.SeasonalCycle;

/**
 * Training windows and how a window becomes model inputs and targets — through the stream's own path: the
 * shared gap function and a fresh causal normaliser, updated with x_t before x_t is normalised; the targets of
 * position t (the next H readings) are normalised with the statistics at t, as the stream denormalises the
 * forecast it makes at t. With a {@link SeasonalCycle} Q (frozen while the rest trains), the readout's lags come
 * with the cycle removed and the targets with the cycle of their steps removed: the model learns what the cycle
 * misses, and the served forecaster adds the cycle back to its means. The readout's offset (a
 * {@link ReadoutForm#hasOffset} form, frozen likewise) comes off the targets the same way.
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
     * window's first reading (the stream's {@link io.sidewinder.ssm.LagReadout.History} of a fresh key). Under the
     * centred forms ({@link ReadoutForm#centred}) the cycle is removed in the series' units and lags and targets are
     * centred on the form's centre of the lags, which {@code centre} ([L][C], normalised units) keeps; it is null otherwise.
     */
    public record Sample(double[] x, double[] gaps, double[] targets, double[][] mean, double[][] std, double[] lags,
                         double[][] centre) {
        /** A sample of a model whose readout (if any) has the {@link ReadoutForm#NORMALISED} form: no centre. */
        public Sample(double[] x, double[] gaps, double[] targets, double[][] mean, double[][] std, double[] lags) {
            this(x, gaps, targets, mean, std, lags, null);
        }

        /**
         * The forecast mean in the series' units at position t, channel k, from the model's normalised output there
         * ({@code head}: head + readout) and the cycle's term ({@link #cycleMean}; plus the readout's offset where the
         * form has one): in series units with a centre (a centred form), in normalised units without.
         */
        public double denormalise(int t, int k, double head, double cycleMean) {
            return centre != null ? (head + centre[t][k]) * std[t][k] + mean[t][k] + cycleMean
                    : (head + cycleMean) * std[t][k] + mean[t][k];
        }
    }

    /**
     * Positions at the start of a window without targets: the causal normaliser has seen too few readings
     * for its scale to mean anything (the stream's warm-up).
     */
    public static final int MIN_CONTEXT = 24;

    /** What {@link #sample} gives at a window's last position only: lags [K][C], targets [H][C], std [C]. */
    public record LastPosition(double[] lags, double[] targets, double[] std) {}

    /** {@link #last(ModelConfig, double[], Series, Window)} of a model without a seasonal cycle. */
    public static LastPosition last(ModelConfig c, Series s, Window w) {
        return last(c, null, s, w);
    }

    /**
     * {@link #sample}'s readout inputs, targets and σ at the window's last position, without the other positions;
     * {@code cycle} is the model's Q (null: without the cycle, as the cycle's own fit reads them).
     */
    public static LastPosition last(ModelConfig c, double[] cycle, Series s, Window w) {
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
        if (cycle != null) {
            removeCycle(c, cycle, w.series(), s, row, Math.min(kk, len), lags, 0, targets, 0, std);
        }
        if (c.readoutForm().centred()) centre(c, Math.min(kk, len), lags, 0, targets, 0, null);
        return new LastPosition(lags, targets, std);
    }

    /** Q[φ][series·C + channel] of forecast step {@code step} made at a reading at {@code time}; 0 without a profile. */
    public static double cycleMean(ModelConfig c, double[] cycle, int series, long time, int step, int channel) {
        if (cycle == null || series >= c.cycleSeries()) return 0;
        int phase = SeasonalCycle.futurePhase(SeasonalCycle.phase(c, time), step, c.cycleLength());
        return cycle[phase * c.cycleColumns() + series * c.channels() + channel];
    }

    /**
     * The served forecaster's cycle terms: lags[j][c] −= Q at lag j's phase, targets[h][c] −= Q at step h's; in the
     * normalised units of σ ({@code std}, [C]) under a centred form, where Q is in the series' units.
     */
    private static void removeCycle(ModelConfig c, double[] cycle, int series, Series s, int row, int lagCount,
                                    double[] lags, int lagOffset, double[] targets, int targetOffset, double[] std) {
        if (series >= c.cycleSeries()) return;
        int ch = c.channels(), cols = c.cycleColumns(), p = c.cycleLength();
        boolean residual = c.readoutForm().centred();
        for (int j = 0; j < lagCount; j++) {
            int q = SeasonalCycle.phase(c, s.times()[row - j]) * cols + series * ch;
            for (int k = 0; k < ch; k++) lags[lagOffset + j * ch + k] -= residual ? cycle[q + k] / std[k] : cycle[q + k];
        }
        int phase = SeasonalCycle.phase(c, s.times()[row]);
        for (int i = 0; i < c.horizon(); i++) {
            int q = SeasonalCycle.futurePhase(phase, i, p) * cols + series * ch;
            for (int k = 0; k < ch; k++) {
                targets[targetOffset + i * ch + k] -= residual ? cycle[q + k] / std[k] : cycle[q + k]; // NaN stays NaN
            }
        }
    }

    /**
     * A centred form's centring (the served forecaster's): each channel's centre of the {@code lagCount} lags
     * ({@link ReadoutForm#centre}) is taken off those lags and off the targets, and kept in {@code centre}
     * ([C], may be null).
     */
    private static void centre(ModelConfig c, int lagCount, double[] lags, int lagOffset, double[] targets,
                               int targetOffset, double[] centre) {
        int ch = c.channels();
        for (int k = 0; k < ch; k++) {
            int channel = k;
            double m = c.readoutForm().centre(j -> lags[lagOffset + j * ch + channel], lagCount);
            for (int j = 0; j < lagCount; j++) lags[lagOffset + j * ch + k] -= m;
            for (int i = 0; i < c.horizon(); i++) targets[targetOffset + i * ch + k] -= m;
            if (centre != null) centre[k] = m;
        }
    }

    /** {@link #sample(ModelConfig, double[], Series, Window)} of a model without a seasonal cycle. */
    public static Sample sample(ModelConfig c, Series s, Window w) {
        return sample(c, null, s, w);
    }

    /** {@link #sample(ModelConfig, double[], double[], Series, Window)} of a model without a readout offset. */
    public static Sample sample(ModelConfig c, double[] cycle, Series s, Window w) {
        return sample(c, cycle, null, s, w);
    }

    /**
     * Inputs and targets of one window for a model whose seasonal cycle (if any) is {@code cycle} and whose readout
     * offset ({@link io.sidewinder.ssm.LagReadout#OFFSET}, [H][C] in the series' units; null: none) is {@code offset}:
     * target (t, h, c) less offset[h][c]/σ_t,c, the offset's part of the served forecast in normalised units.
     */
    public static Sample sample(ModelConfig c, double[] cycle, double[] offset, Series s, Window w) {
        if (offset != null && offset.length != c.horizon() * c.channels()) {
            throw new IllegalArgumentException("a readout offset has H·C = " + c.horizon() * c.channels()
                    + " values, got " + offset.length);
        }
        if (c.cycleLength() > 0 && cycle == null) {
            throw new IllegalArgumentException("the model has a seasonal cycle: its samples need the cycle's Q");
        }
        int ch = c.channels(), len = w.length(), h = c.horizon();
        double[] x = new double[len * ch], gaps = new double[len], targets = new double[len * h * ch];
        double[][] mean = new double[len][ch], std = new double[len][ch];
        int kk = c.readoutLags();
        double[][] centre = c.readoutForm().centred() ? new double[len][ch] : null;
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
            if (cycle != null) {
                removeCycle(c, cycle, w.series(), s, row, Math.min(kk, t + 1), lags, t * kk * ch, targets, t * h * ch,
                        std[t]);
            }
            if (centre != null) centre(c, Math.min(kk, t + 1), lags, t * kk * ch, targets, t * h * ch, centre[t]);
            for (int i = 0; offset != null && i < h; i++) {
                for (int k = 0; k < ch; k++) targets[(t * h + i) * ch + k] -= offset[i * ch + k] / std[t][k];
            }
        }
        return new Sample(x, gaps, targets, mean, std, kk > 0 ? lags : null, centre);
    }
}
