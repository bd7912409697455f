package io.sidewinder.trainer;

import io.sidewinder.ssm.LagReadout;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.SeasonalCycle;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.Windows;
import io.sidewinder.trainer.train.Windows.Series;
import io.sidewinder.trainer.train.Windows.Window;
import java.util.List;

/**
 * The closed-form start of a model with a lag readout: ridge regression of the next H normalised readings on the
 * readout's inputs at each training window's last position (the RLinear forecaster), written into the readout's mean
 * rows and the head's bias, with the head's weights zeroed. Training then begins at the linear forecaster and the
 * Mamba layers learn what it misses, instead of first unlearning a random head: from a zero readout and a random
 * head, AdamW stopped early well short of the linear forecaster on ETTh1. A model with a {@link SeasonalCycle} is
 * fitted with its current Q removed from the lags and targets ({@link CycleFit} fits Q for a given readout). In a form
 * with an offset ({@link io.sidewinder.ssm.ReadoutForm#hasOffset}) the intercept is that offset, one per horizon step
 * and channel in the series' units (its design column is 1/σ in the rows' normalised units), and the head's bias
 * rows of the means stay zero.
 */
public final class ReadoutFit {
    private ReadoutFit() {}

    /** Windows used for the fit at most (evenly spaced over the list). */
    static final int MAX_WINDOWS = 65_536;
    /** Windows used by each reweighting round of the Huber fit at most (each round solves H systems). */
    static final int HUBER_WINDOWS = 8_192;
    /** Reweighting rounds of the Huber fit after the least-squares start. */
    static final int HUBER_ROUNDS = 3;

    /** {@link #fit(TrainableModel, List, List, double, boolean, double)} by least squares (no Huber weights). */
    public static double fit(TrainableModel model, List<Series> data, List<Window> windows, double ridge,
                             boolean scaled) {
        return fit(model, data, windows, ridge, scaled, 0);
    }

    /**
     * Fits {@code model}'s readout in place; returns the fit's mean squared error in normalised units. With
     * {@code scaled}, each window's squared errors are weighted by σ² (as {@code Loss.SCALED_MSE} weights them).
     * With {@code huberDelta} > 0 the least-squares solution is the start of {@value #HUBER_ROUNDS} rounds of
     * iteratively reweighted least squares for the Huber loss of the (σ-scaled) error with that δ
     * ({@code Loss.SCALED_HUBER}): each horizon step's weights follow its own residuals, so each step is its own
     * weighted ridge regression.
     *
     * @throws IllegalArgumentException when the model has no readout or there are fewer positions than lags
     */
    public static double fit(TrainableModel model, List<Series> data, List<Window> windows, double ridge,
                             boolean scaled, double huberDelta) {
        ModelConfig c = model.config();
        int kk = c.readoutLags(), ch = c.channels(), h = c.horizon(), p = columns(c);
        if (kk == 0) throw new IllegalArgumentException("the model has no lag readout to fit");
        boolean withOffset = c.readoutForm().hasOffset();
        double[] cycle = c.cycleLength() > 0 ? model.parameters().get(SeasonalCycle.WEIGHT) : null;
        double[] gram = new double[p * p], cross = new double[p * h];
        double stride = Math.max(1.0, (double) windows.size() / MAX_WINDOWS);
        long[] counts = new long[1];
        double[] total = new double[1];
        forEachRow(c, cycle, data, windows, MAX_WINDOWS, scaled, (row, y, sd) -> {
            double weight = sd * sd;
            for (int a = 0; a < p; a++) {
                double wa = weight * row[a];
                for (int b = 0; b <= a; b++) gram[a * p + b] += wa * row[b];
                for (int o = 0; o < h; o++) cross[a * h + o] += wa * y[o];
            }
            total[0] += weight;
            counts[0]++;
        });
        long rows = counts[0];
        double weights = total[0];
        if (rows < p) {
            throw new IllegalArgumentException("the readout fit needs at least " + p + " complete windows, got " + rows);
        }
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < a; b++) gram[b * p + a] = gram[a * p + b];
        }
        for (int j = 0; j < kk; j++) gram[j * p + j] += ridge * weights; // not on the intercept
        // A channel without rows leaves its offset's column empty: keep it determined (at 0).
        for (int a = kk; a < p; a++) if (gram[a * p + a] == 0) gram[a * p + a] = 1;
        double[] sol = HeadFit.Cholesky.solve(gram, cross, p, h);
        if (huberDelta > 0) huberRounds(c, cycle, data, windows, ridge, scaled, huberDelta, sol);
        double[] wr = model.parameters().get(LagReadout.WEIGHT);
        double[] headW = model.parameters().get("head.weight"), headB = model.parameters().get("head.bias");
        java.util.Arrays.fill(wr, 0);
        java.util.Arrays.fill(headW, 0);
        double[] offset = withOffset ? model.parameters().get(LagReadout.OFFSET) : null;
        for (int o = 0; o < h; o++) {
            for (int j = 0; j < kk; j++) wr[o * kk + j] = sol[j * h + o];
            for (int k = 0; k < ch; k++) {
                headB[o * ch + k] = withOffset ? 0 : sol[kk * h + o];
                if (withOffset) offset[o * ch + k] = sol[(kk + k) * h + o];
            }
        }
        // The fit's error from the normal equations: Σy² is not kept, so measure it with a second, cheap pass.
        double sse = 0;
        long n = 0;
        for (double i = 0; i < windows.size(); i += stride * 4) {
            Window w = windows.get((int) i);
            Windows.LastPosition s = Windows.last(c, cycle, data.get(w.series()), w);
            for (int k = 0; k < ch; k++) {
                for (int o = 0; o < h; o++) {
                    double target = s.targets()[o * ch + k];
                    if (Double.isNaN(target)) continue;
                    double pred = withOffset ? sol[(kk + k) * h + o] / s.std()[k] : sol[kk * h + o];
                    for (int j = 0; j < kk; j++) pred += sol[j * h + o] * s.lags()[j * ch + k];
                    sse += (target - pred) * (target - pred);
                    n++;
                }
            }
        }
        double mse = sse / Math.max(1, n);
        for (int o = 0; o < h * ch; o++) headB[h * ch + o] = Math.log(Math.max(mse, 1e-6)); // log-variance rows
        return mse;
    }

    /**
     * Iteratively reweighted least squares for the Huber loss, starting from {@code sol} ([p][H], least squares) and
     * overwriting it: per horizon step o, rows are weighted by σ²·ψ(e)/e of their current error e (see
     * {@link TrainableModel#huberWeight}) and the step's column re-solved with the same ridge.
     */
    private static void huberRounds(ModelConfig c, double[] cycle, List<Series> data, List<Window> windows,
                                    double ridge, boolean scaled, double delta, double[] sol) {
        int kk = c.readoutLags(), ch = c.channels(), h = c.horizon(), p = columns(c);
        List<double[]> xs = new java.util.ArrayList<>(), ys = new java.util.ArrayList<>();
        java.util.stream.DoubleStream.Builder sdOf = java.util.stream.DoubleStream.builder();
        forEachRow(c, cycle, data, windows, HUBER_WINDOWS, scaled, (row, y, sd) -> {
            xs.add(row.clone());
            ys.add(y.clone());
            sdOf.add(sd);
        });
        int n = xs.size();
        double[] sds = sdOf.build().toArray();
        for (int round = 0; round < HUBER_ROUNDS; round++) {
            double[] current = sol.clone();
            java.util.stream.IntStream.range(0, h).parallel().forEach(o -> {
                double[] gram = new double[p * p], cross = new double[p];
                double weights = 0;
                for (int r = 0; r < n; r++) {
                    double[] row = xs.get(r);
                    double pred = 0;
                    for (int j = 0; j < p; j++) pred += current[j * h + o] * row[j];
                    double sd = sds[r], y = ys.get(r)[o];
                    double weight = sd * sd * TrainableModel.huberWeight(sd * (y - pred), delta);
                    for (int a = 0; a < p; a++) {
                        double wa = weight * row[a];
                        for (int b = 0; b <= a; b++) gram[a * p + b] += wa * row[b];
                        cross[a] += wa * y;
                    }
                    weights += weight;
                }
                for (int a = 0; a < p; a++) {
                    for (int b = 0; b < a; b++) gram[b * p + a] = gram[a * p + b];
                }
                for (int j = 0; j < kk; j++) gram[j * p + j] += ridge * weights;
                for (int j = kk; j < p; j++) if (gram[j * p + j] == 0) gram[j * p + j] = 1; // as in fit()
                double[] col = HeadFit.Cholesky.solve(gram, cross, p, 1);
                for (int j = 0; j < p; j++) sol[j * h + o] = col[j];
            });
        }
    }

    /** The fit's columns: the K lags and the intercept, or the K lags and one offset column per channel. */
    private static int columns(ModelConfig c) {
        return c.readoutLags() + (c.readoutForm().hasOffset() ? c.channels() : 1);
    }

    /** A window's complete (lags + intercept, targets, σ) row of one channel; the arrays are reused between calls. */
    private interface RowConsumer {
        void accept(double[] row, double[] y, double sd);
    }

    /**
     * The fits' rows: each channel of at most {@code maxWindows} windows (evenly spaced) whose H targets are all
     * present, as its readout inputs at the window's last position with a trailing 1 (or, in a form with an offset,
     * 1/σ in the channel's offset column and 0 in the others), its targets and its σ (1 unless {@code scaled}).
     */
    private static void forEachRow(ModelConfig c, double[] cycle, List<Series> data, List<Window> windows,
                                   int maxWindows, boolean scaled, RowConsumer consumer) {
        int kk = c.readoutLags(), ch = c.channels(), h = c.horizon();
        boolean withOffset = c.readoutForm().hasOffset();
        double[] row = new double[columns(c)], y = new double[h];
        double stride = Math.max(1.0, (double) windows.size() / maxWindows);
        for (double i = 0; i < windows.size(); i += stride) {
            Window w = windows.get((int) i);
            Windows.LastPosition s = Windows.last(c, cycle, data.get(w.series()), w);
            for (int k = 0; k < ch; k++) {
                boolean complete = true;
                for (int o = 0; o < h; o++) {
                    y[o] = s.targets()[o * ch + k];
                    complete &= !Double.isNaN(y[o]);
                }
                if (!complete) continue;
                for (int j = 0; j < kk; j++) row[j] = s.lags()[j * ch + k];
                if (withOffset) {
                    for (int o = 0; o < ch; o++) row[kk + o] = o == k ? 1 / s.std()[k] : 0;
                } else {
                    row[kk] = 1;
                }
                consumer.accept(row, y, scaled ? s.std()[k] : 1);
            }
        }
    }
}
