package io.sidewinder.evaluation.anomaly;

import io.sidewinder.processors.AnomalyScorer;

/**
 * NAB's windowed Gaussian baseline (benchmarks.md): μ, σ over the last ≤ 6400 values (population std, 1e-6 when
 * 0), score = 1 − Q(|x − μ|/σ); the window grows to 6400 values, then slides in steps of 100; the first row
 * scores 0. Several channels are scored independently and the largest score is the row's.
 */
public final class WindowedGaussianDetector implements StreamDetector {
    static final int WINDOW = 6400;
    static final int STEP = 100;

    private final Channel[] channels;

    public WindowedGaussianDetector(int channels) {
        this.channels = new Channel[channels];
        for (int c = 0; c < channels; c++) this.channels[c] = new Channel();
    }

    public static Factory factory() {
        return Factory.of("windowed-gaussian", WindowedGaussianDetector::new);
    }

    @Override
    public Scores score(long eventTime, float[] values) {
        double max = 0;
        for (int c = 0; c < channels.length; c++) max = Math.max(max, channels[c].score(values[c]));
        return Scores.same(max);
    }

    private static final class Channel {
        private final double[] window = new double[WINDOW];
        private final double[] pending = new double[STEP];
        private int size;
        private int start;                 // ring-buffer start of the window
        private int pendingSize;
        private double mean;
        private double std;

        double score(double x) {
            double score = size == 0 ? 0 : 1 - 0.5 * AnomalyScorer.erfc(Math.abs(x - mean) / std / Math.sqrt(2));
            if (size < WINDOW) {
                window[size++] = x;
                refresh();
            } else {
                pending[pendingSize++] = x;
                if (pendingSize == STEP) {
                    for (int i = 0; i < STEP; i++) window[(start + i) % WINDOW] = pending[i];
                    start = (start + STEP) % WINDOW;
                    pendingSize = 0;
                    refresh();
                }
            }
            return score;
        }

        private void refresh() {
            double m = 0;
            for (int i = 0; i < size; i++) m += window[i];
            m /= size;
            double v = 0;
            for (int i = 0; i < size; i++) v += (window[i] - m) * (window[i] - m);
            mean = m;
            double s = Math.sqrt(v / size);
            std = s == 0 ? 1e-6 : s;
        }
    }
}
