package io.sidewinder.evaluation.anomaly;

import java.util.ArrayList;
import java.util.List;

/**
 * One file of a labelled corpus: its path relative to the corpus root (the key of the labels file), channel
 * names, event times (epoch ms, ascending) and values [row][channel], and its labelled windows as inclusive
 * row ranges (merged, sorted).
 */
public record LabelledStream(String path, List<String> channels, long[] times, float[][] values, List<RowWindow> windows) {

    /** An inclusive range of rows labelled anomalous. */
    public record RowWindow(int first, int last) {
        public RowWindow {
            if (first > last) throw new IllegalArgumentException("window [" + first + ", " + last + "] is empty");
        }

        public int width() {
            return last - first + 1;
        }

        public boolean contains(int row) {
            return row >= first && row <= last;
        }
    }

    public int rows() {
        return times.length;
    }

    /** Per-row labels: true inside a window. */
    public boolean[] rowLabels() {
        boolean[] labels = new boolean[times.length];
        for (RowWindow w : windows) {
            for (int i = w.first(); i <= w.last(); i++) labels[i] = true;
        }
        return labels;
    }

    /**
     * Converts time windows [startMs, endMs] to the rows whose time falls inside them, merging windows that share
     * a row (windows that only touch stay two, as NAB scores them); a window that covers no row is dropped.
     */
    public static List<RowWindow> toRows(long[] times, List<long[]> timeWindows) {
        List<RowWindow> raw = new ArrayList<>();
        for (long[] w : timeWindows) {
            int first = lowerBound(times, w[0]);
            int last = lowerBound(times, w[1] + 1) - 1;
            if (first <= last) raw.add(new RowWindow(first, last));
        }
        raw.sort(java.util.Comparator.comparingInt(RowWindow::first));
        List<RowWindow> merged = new ArrayList<>();
        for (RowWindow w : raw) {
            if (!merged.isEmpty() && w.first() <= merged.getLast().last()) {
                RowWindow prev = merged.removeLast();
                merged.add(new RowWindow(prev.first(), Math.max(prev.last(), w.last())));
            } else {
                merged.add(w);
            }
        }
        return List.copyOf(merged);
    }

    /** First index with times[i] >= t. */
    private static int lowerBound(long[] times, long t) {
        int lo = 0, hi = times.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (times[mid] < t) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
