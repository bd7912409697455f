package io.sidewinder.evaluation.anomaly;

import io.sidewinder.evaluation.anomaly.LabelledStream.RowWindow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * NAB-style scoring of labelled anomaly windows (rules in ../shared/docs/benchmarks.md):
 * <ul>
 *   <li>rows before the probation are never scored; a window starting inside the probation is dropped and its
 *       rows are not scored either (they are neither a reward nor a false alarm);</li>
 *   <li>a detection inside a window earns scaledSigmoid(−(R − i + 1)/width)·tpW/maxTP (earlier is better), only
 *       the best detection of a window counts, and a window with none costs fnW;</li>
 *   <li>a detection outside windows costs fpW before the first window has ended, then
 *       scaledSigmoid(|R_prev − i|/(width_prev − 1))·fpW (a late detection of the previous window costs little);</li>
 *   <li>the normalised score is 100·(S − S_null)/(S_perfect − S_null) with S_perfect = tpW·#windows and
 *       S_null = −fnW·#windows.</li>
 * </ul>
 */
public final class NabScorer {
    private NabScorer() {}

    /** The threshold above every score in [0,1]: no detections at all. */
    public static final double NO_DETECTIONS = 1.1;

    public static double scaledSigmoid(double x) {
        return x > 3 ? -1.0 : 2.0 / (1.0 + Math.exp(5.0 * x)) - 1.0;
    }

    static final double MAX_TP = scaledSigmoid(-1.0);

    /** NAB's probation: the first min(floor(0.15·rows), 750) rows. */
    public static int nabProbation(int rows) {
        return Math.min((int) Math.floor(0.15 * rows), 750);
    }

    /**
     * One file prepared for a profile: for each scorable row its score, its weight as a detection, and the id of
     * the window it lies in (−1 outside).
     */
    public record ScoredFile(double[] scores, double[] weights, int[] windowIds, int windows) {}

    /** A threshold and the raw score it gives. */
    public record Sweep(double threshold, double rawScore) {}

    public static ScoredFile prepare(double[] scores, List<RowWindow> windows, int probation, NabProfile profile) {
        int n = scores.length;
        List<RowWindow> kept = new ArrayList<>();
        boolean[] excluded = new boolean[n];
        for (int i = 0; i < Math.min(probation, n); i++) excluded[i] = true;
        for (RowWindow w : windows) {
            if (w.first() < probation) {
                for (int i = w.first(); i <= Math.min(w.last(), n - 1); i++) excluded[i] = true;
            } else {
                kept.add(w);
            }
        }
        int scorable = 0;
        for (boolean e : excluded) if (!e) scorable++;
        double[] s = new double[scorable], wts = new double[scorable];
        int[] ids = new int[scorable];
        int k = 0, next = 0;
        RowWindow previous = null;
        for (int i = 0; i < n; i++) {
            while (next < kept.size() && kept.get(next).last() < i) previous = kept.get(next++);
            if (excluded[i]) continue;
            RowWindow current = next < kept.size() && kept.get(next).contains(i) ? kept.get(next) : null;
            s[k] = scores[i];
            if (current != null) {
                ids[k] = next;
                wts[k] = scaledSigmoid(-(current.last() - i + 1) / (double) current.width()) * profile.tpWeight / MAX_TP;
            } else {
                ids[k] = -1;
                wts[k] = previous == null ? -profile.fpWeight
                        : scaledSigmoid(Math.abs(previous.last() - i) / (double) Math.max(previous.width() - 1, 1))
                        * profile.fpWeight;
            }
            k++;
        }
        return new ScoredFile(s, wts, ids, kept.size());
    }

    public static int windows(List<ScoredFile> files) {
        int w = 0;
        for (ScoredFile f : files) w += f.windows();
        return w;
    }

    /** The raw score of a corpus at one threshold (detections: scores >= threshold). */
    public static double rawScore(List<ScoredFile> files, double threshold, NabProfile profile) {
        double total = 0;
        for (ScoredFile f : files) {
            double[] best = new double[f.windows()];
            Arrays.fill(best, Double.NaN);
            for (int i = 0; i < f.scores().length; i++) {
                if (f.scores()[i] < threshold) continue;
                int w = f.windowIds()[i];
                if (w < 0) total += f.weights()[i];
                else if (Double.isNaN(best[w]) || f.weights()[i] > best[w]) best[w] = f.weights()[i];
            }
            for (double b : best) total += Double.isNaN(b) ? -profile.fnWeight : b;
        }
        return total;
    }

    /**
     * The best threshold: every distinct score is tried, from {@link #NO_DETECTIONS} down; ties keep the higher
     * threshold. Incremental over the sorted scores, so O(n log n) for the whole corpus.
     */
    public static Sweep bestThreshold(List<ScoredFile> files, NabProfile profile) {
        int total = 0, windows = 0;
        for (ScoredFile f : files) total += f.scores().length;
        double[] score = new double[total], weight = new double[total];
        int[] window = new int[total];
        int k = 0;
        for (ScoredFile f : files) {
            for (int i = 0; i < f.scores().length; i++, k++) {
                score[k] = f.scores()[i];
                weight[k] = f.weights()[i];
                window[k] = f.windowIds()[i] < 0 ? -1 : windows + f.windowIds()[i];
            }
            windows += f.windows();
        }
        Integer[] order = new Integer[total];
        for (int i = 0; i < total; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));
        double[] best = new double[windows];
        Arrays.fill(best, Double.NaN);
        double raw = -profile.fnWeight * windows;
        Sweep top = new Sweep(NO_DETECTIONS, raw);
        for (int i = 0; i < total; ) {
            double t = score[order[i]];
            for (; i < total && score[order[i]] == t; i++) {
                int r = order[i], w = window[r];
                if (w < 0) {
                    raw += weight[r];
                } else if (Double.isNaN(best[w])) {
                    raw += profile.fnWeight + weight[r];
                    best[w] = weight[r];
                } else if (weight[r] > best[w]) {
                    raw += weight[r] - best[w];
                    best[w] = weight[r];
                }
            }
            if (raw > top.rawScore()) top = new Sweep(t, raw);
        }
        return top;
    }

    /** 100·(S − S_null)/(S_perfect − S_null): the null detector scores 0, a perfect one 100. */
    public static double normalise(double raw, int windows, NabProfile profile) {
        if (windows == 0) return Double.NaN;
        double perfect = profile.tpWeight * windows, none = -profile.fnWeight * windows;
        return 100.0 * (raw - none) / (perfect - none);
    }
}
