package io.sidewinder.trainer.eval;

/**
 * The standard ETT long-horizon forecasting protocol (PatchTST, LTSF-Linear, iTransformer, S-Mamba, …): months of
 * 30 days; train rows [0, 12·30·d), validation [12·30·d − L, 16·30·d), test [16·30·d − L, 20·30·d) with d rows
 * per day (24 for ETTh, 96 for ETTm); z-score with the train rows' mean and population std; windows of lookback
 * L and horizon H at stride 1.
 */
public record EttProtocol(int rowsPerDay, int lookback, int horizon) {

    public EttProtocol {
        if (rowsPerDay < 1 || lookback < 1 || horizon < 1) {
            throw new IllegalArgumentException("the ETT protocol needs rows per day, lookback and horizon of at least "
                    + "1, got " + rowsPerDay + ", " + lookback + " and " + horizon);
        }
        // The smallest split (validation, 4 months) must hold one window; the training split must hold the lookback.
        int months4 = 4 * 30 * rowsPerDay;
        if (horizon > months4 || lookback > 12 * 30 * rowsPerDay) {
            throw new IllegalArgumentException("lookback " + lookback + " and horizon " + horizon + " do not fit the "
                    + "ETT splits: at most " + 12 * 30 * rowsPerDay + " and " + months4 + " rows at " + rowsPerDay
                    + " rows per day");
        }
    }

    /** 24 rows per day for hourly files (ETTh*), 96 for 15-minute ones (ETTm*). */
    public static EttProtocol forFile(String fileName, int lookback, int horizon) {
        return new EttProtocol(fileName.startsWith("ETTm") ? 96 : 24, lookback, horizon);
    }

    public int trainEnd() {
        return 12 * 30 * rowsPerDay;
    }

    public int valEnd() {
        return 16 * 30 * rowsPerDay;
    }

    public int testEnd() {
        return 20 * 30 * rowsPerDay;
    }

    /** First row of a split's segment: train 0, val trainEnd − L, test valEnd − L. */
    public int segmentStart(Split s) {
        return switch (s) {
            case TRAIN -> 0;
            case VAL -> trainEnd() - lookback;
            case TEST -> valEnd() - lookback;
        };
    }

    public int segmentEnd(Split s) {
        return switch (s) {
            case TRAIN -> trainEnd();
            case VAL -> valEnd();
            case TEST -> testEnd();
        };
    }

    /** Number of windows in a split: segment length − L − H + 1. */
    public int windows(Split s) {
        return segmentEnd(s) - segmentStart(s) - lookback - horizon + 1;
    }

    /** Start row of window w of a split (its lookback begins there; its targets begin at start + L). */
    public int windowStart(Split s, int w) {
        return segmentStart(s) + w;
    }

    public enum Split { TRAIN, VAL, TEST }

    /** Per-channel mean and population std of the train rows. */
    public double[][] trainStatistics(float[][] values) {
        int c = values[0].length;
        double[] mean = new double[c], std = new double[c];
        int n = trainEnd();
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < c; k++) mean[k] += values[t][k];
        }
        for (int k = 0; k < c; k++) mean[k] /= n;
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < c; k++) {
                double d = values[t][k] - mean[k];
                std[k] += d * d;
            }
        }
        for (int k = 0; k < c; k++) std[k] = Math.sqrt(std[k] / n);
        return new double[][] {mean, std};
    }

    /** The z-scored copy of the rows up to the end of the test segment. */
    public float[][] standardise(float[][] values) {
        if (values.length < testEnd()) {
            throw new IllegalArgumentException("the ETT protocol needs " + testEnd() + " rows (20 months of "
                    + rowsPerDay + " rows per day: an ETTh*/ETTm* file), the file has " + values.length);
        }
        double[][] st = trainStatistics(values);
        for (int k = 0; k < st[1].length; k++) {
            if (!(st[1][k] > 0)) {   // z-scoring would divide by zero: every figure NaN
                throw new IllegalArgumentException("value column " + k + " is constant over the training split (rows [0, "
                        + trainEnd() + ")): it cannot be z-scored; leave it out of the file");
            }
        }
        float[][] z = new float[testEnd()][values[0].length];
        for (int t = 0; t < z.length; t++) {
            for (int k = 0; k < z[t].length; k++) {
                z[t][k] = (float) ((values[t][k] - st[0][k]) / st[1][k]);
            }
        }
        return z;
    }
}
