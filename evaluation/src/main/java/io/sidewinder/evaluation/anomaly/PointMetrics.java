package io.sidewinder.evaluation.anomaly;

import java.util.Arrays;
import java.util.List;

/**
 * Point-wise detection metrics over scorable rows (SKAB's outlier task): F1, false alarm rate
 * FAR = FP/(FP+TN) and missed alarm rate MAR = FN/(FN+TP), both in percent.
 */
public final class PointMetrics {
    private PointMetrics() {}

    /** Scores and labels of the scorable rows of one file. */
    public record LabelledScores(double[] scores, boolean[] labels) {}

    public record Counts(long tp, long fp, long tn, long fn) {
        public Counts plus(Counts o) {
            return new Counts(tp + o.tp, fp + o.fp, tn + o.tn, fn + o.fn);
        }

        public double f1() {
            return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        }

        public double farPercent() {
            return fp + tn == 0 ? 0 : 100.0 * fp / (fp + tn);
        }

        public double marPercent() {
            return fn + tp == 0 ? 0 : 100.0 * fn / (fn + tp);
        }
    }

    public record Best(double threshold, Counts counts) {}

    public static LabelledScores scorable(double[] scores, boolean[] labels, int probation) {
        int from = Math.min(probation, scores.length);
        return new LabelledScores(Arrays.copyOfRange(scores, from, scores.length), Arrays.copyOfRange(labels, from, labels.length));
    }

    public static Counts at(List<LabelledScores> files, double threshold) {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (LabelledScores f : files) {
            for (int i = 0; i < f.scores().length; i++) {
                boolean flagged = f.scores()[i] >= threshold;
                if (flagged && f.labels()[i]) tp++;
                else if (flagged) fp++;
                else if (f.labels()[i]) fn++;
                else tn++;
            }
        }
        return new Counts(tp, fp, tn, fn);
    }

    /** The threshold (a distinct score, or none flagged) with the best F1; ties keep the higher threshold. */
    public static Best bestF1(List<LabelledScores> files) {
        int n = 0;
        long positives = 0;
        for (LabelledScores f : files) {
            n += f.scores().length;
            for (boolean l : f.labels()) if (l) positives++;
        }
        double[] s = new double[n];
        boolean[] l = new boolean[n];
        int k = 0;
        for (LabelledScores f : files) {
            System.arraycopy(f.scores(), 0, s, k, f.scores().length);
            System.arraycopy(f.labels(), 0, l, k, f.labels().length);
            k += f.scores().length;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(s[b], s[a]));
        long tp = 0, fp = 0;
        Best best = new Best(NabScorer.NO_DETECTIONS, new Counts(0, 0, n - positives, positives));
        for (int i = 0; i < n; ) {
            double t = s[order[i]];
            for (; i < n && s[order[i]] == t; i++) {
                if (l[order[i]]) tp++;
                else fp++;
            }
            Counts c = new Counts(tp, fp, n - positives - fp, positives - tp);
            if (c.f1() > best.counts().f1()) best = new Best(t, c);
        }
        return best;
    }
}
