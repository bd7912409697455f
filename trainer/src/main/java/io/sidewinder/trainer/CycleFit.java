package io.sidewinder.trainer;

import io.sidewinder.ssm.LagReadout;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.ssm.SeasonalCycle;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.Windows;
import io.sidewinder.trainer.train.Windows.Series;
import io.sidewinder.trainer.train.Windows.Window;
import java.util.Arrays;
import java.util.List;

/**
 * The closed-form fit of a model's {@link SeasonalCycle} Q for its current readout W and head bias b: at each
 * training window's last position the linear forecaster predicts
 * <pre>
 *   ŷ_h = Σ_j W[h][j]·(lag_j − Q[φ_j]) + b_h + Q[φ_h]
 * </pre>
 * which is linear in Q, so each column of Q (one series and channel) is a ridge regression of the readout's
 * residuals y_h − Σ_j W[h][j]·lag_j − b_h on the design rows e(φ_h) − Σ_j W[h][j]·e(φ_j). Alternating it with
 * {@link ReadoutFit} is CycleNet's residual cycle forecasting solved exactly instead of by SGD; one round is enough
 * (a second moved ETTh1's test MSE by less than 1e-3). Under a centred form ({@link ReadoutForm#centred}) Q is in
 * the series' units and the lags are centred, Q's included: the design row becomes
 * (e(φ_h) − ē − Σ_j W[h][j]·(e(φ_j) − ē))/σ with ē the form's centre of the lags' e(φ_j) (their mean under
 * RESIDUAL, lag 0's under LAST_VALUE), still linear in Q.
 */
public final class CycleFit {
    private CycleFit() {}

    /**
     * Fits {@code model}'s cycle in place for its current readout and head bias; returns the number of
     * (window, channel) rows the fit used. With {@code scaled}, rows are weighted by σ² as {@code Loss.SCALED_MSE}
     * weights them.
     *
     * @throws IllegalArgumentException when the model has no cycle or a series has no rows
     */
    public static long fit(TrainableModel model, List<Series> data, List<Window> windows, double ridge, boolean scaled) {
        return fit(model, data, windows, ridge, scaled, 0);
    }

    /**
     * As above; with {@code huberDelta} > 0 the fit is iteratively reweighted least squares for the Huber loss of the
     * (σ-scaled) error with that δ ({@code Loss.SCALED_HUBER}): each (row, horizon step) is weighted by ψ(e)/e of its
     * error under the current Q, for {@value ReadoutFit#HUBER_ROUNDS} rounds after the first solve.
     */
    public static long fit(TrainableModel model, List<Series> data, List<Window> windows, double ridge, boolean scaled,
                           double huberDelta) {
        long rows = solve(model, data, windows, ridge, scaled, huberDelta);
        for (int round = 0; huberDelta > 0 && round < ReadoutFit.HUBER_ROUNDS; round++) {
            solve(model, data, windows, ridge, scaled, huberDelta);
        }
        return rows;
    }

    private static long solve(TrainableModel model, List<Series> data, List<Window> windows, double ridge,
                              boolean scaled, double delta) {
        ModelConfig c = model.config();
        int p = c.cycleLength(), kk = c.readoutLags(), ch = c.channels(), h = c.horizon(), cols = c.cycleColumns();
        ReadoutForm form = c.readoutForm();
        boolean residual = form.centred();
        if (p == 0) throw new IllegalArgumentException("the model has no seasonal cycle to fit");
        double[] w = kk > 0 ? model.parameters().get(LagReadout.WEIGHT) : new double[0];
        double[] rest = residual ? remainders(w, kk, h) : null; // 1 − Σ_j W[h][j]: the weight of the lags' centre
        double[] bias = model.parameters().get("head.bias");
        double[] offset = model.parameters().get(LagReadout.OFFSET); // null in a form without one
        // Windows of a regular cadence share their design by the phase of their last reading: the Gram matrix is then
        // Σ_φ (Σ weights at φ)·D_φᵀD_φ, one P×P product per phase instead of one per window.
        double[][] regularWeight = new double[cols][p];
        // With Huber weights a regular window's weight differs per horizon step: [col][phase][step].
        double[][][] regularStepWeight = delta > 0 ? new double[cols][p][h] : null;
        double[] q = model.parameters().get(SeasonalCycle.WEIGHT);
        double[] stepWeight = new double[h];
        double[][] gram = new double[cols][p * p], rhs = new double[cols][p];
        double[] weights = new double[cols];
        int[] lagPhases = new int[kk];
        double[] u = new double[kk], r = new double[h];
        double stride = Math.max(1.0, (double) windows.size() / ReadoutFit.MAX_WINDOWS);
        long rows = 0;
        for (double i = 0; i < windows.size(); i += stride) {
            Window win = windows.get((int) i);
            if (win.series() >= c.cycleSeries()) continue;
            Series s = data.get(win.series());
            Windows.LastPosition last = Windows.last(c, null, s, win);
            int row = win.start() + win.length() - 1, lags = Math.min(kk, win.length());
            int phase = SeasonalCycle.phase(c, s.times()[row]);
            boolean regular = lags == kk;
            for (int j = 0; j < lags; j++) {
                lagPhases[j] = SeasonalCycle.phase(c, s.times()[row - j]);
                regular &= lagPhases[j] == Math.floorMod(phase - j, p);
            }
            for (int k = 0; k < ch; k++) {
                int col = win.series() * ch + k;
                boolean complete = true;
                for (int o = 0; o < h; o++) {
                    double y = last.targets()[o * ch + k], pred = bias[o * ch + k];
                    if (offset != null) pred += offset[o * ch + k] / last.std()[k];
                    for (int j = 0; j < lags; j++) pred += w[o * kk + j] * last.lags()[j * ch + k];
                    r[o] = y - pred;
                    complete &= !Double.isNaN(y);
                }
                if (!complete) continue;
                double sd = scaled ? last.std()[k] : 1, weight = sd * sd, rowWeight = 0;
                // Q's term in the row's normalised units: ×1 (Q normalised), ×1/σ (Q in the series' units)
                double inv = residual ? 1 / last.std()[k] : 1;
                double lagMean = 0; // the centre of Q over the lags (centred forms only)
                for (int j = 0; residual && delta > 0 && j < lags; j++) {
                    lagMean += form.centreShare(q[lagPhases[j] * cols + col], j, lags);
                }
                for (int o = 0; o < h; o++) {
                    stepWeight[o] = weight;
                    if (delta > 0) {
                        // the error under the current Q: r − D·Q
                        double cyc = q[SeasonalCycle.futurePhase(phase, o, p) * cols + col];
                        for (int j = 0; j < lags; j++) cyc -= w[o * kk + j] * q[lagPhases[j] * cols + col];
                        if (residual) cyc -= rest[o] * lagMean;
                        stepWeight[o] *= TrainableModel.huberWeight(sd * (r[o] - inv * cyc), delta);
                    }
                    stepWeight[o] *= inv * inv; // the design's 1/σ, squared
                    rowWeight += stepWeight[o] / h;
                }
                // rhs += Dᵀ·diag(weights)·r with D[h] = e(φ_h) − Σ_j W[h][j]·e(φ_j)
                Arrays.fill(u, 0);
                double restSum = 0;
                for (int o = 0; o < h; o++) {
                    double wr = stepWeight[o] * r[o] / inv; // stepWeight holds the design's 1/σ twice; r needs it once
                    rhs[col][SeasonalCycle.futurePhase(phase, o, p)] += wr;
                    for (int j = 0; j < lags; j++) u[j] += w[o * kk + j] * wr;
                    if (residual) restSum += rest[o] * wr;
                }
                for (int j = 0; j < lags; j++) {
                    rhs[col][lagPhases[j]] -= u[j] + (residual ? form.centreShare(restSum, j, lags) : 0);
                }
                if (regular && delta > 0) {
                    for (int o = 0; o < h; o++) regularStepWeight[col][phase][o] += stepWeight[o];
                } else if (regular) {
                    regularWeight[col][phase] += weight * inv * inv;
                } else {
                    addDesignGram(design(w, rest, form, kk, h, p, phase, lagPhases, lags), h, p, stepWeight, gram[col]);
                }
                weights[col] += rowWeight;
                rows++;
            }
        }
        double[][] regularGram = new double[p][];
        double[][] regularDesign = new double[p][];
        for (int col = 0; col < cols; col++) {
            if (weights[col] == 0) {
                throw new IllegalArgumentException("the seasonal cycle's series " + col / ch + " has no training window");
            }
            for (int phase = 0; delta > 0 && phase < p; phase++) {
                if (regularDesign[phase] == null) regularDesign[phase] = regularDesign(w, rest, form, kk, h, p, phase);
                addDesignGram(regularDesign[phase], h, p, regularStepWeight[col][phase], gram[col]);
            }
            for (int phase = 0; phase < p; phase++) {
                if (regularWeight[col][phase] == 0) continue;
                if (regularGram[phase] == null) {
                    regularGram[phase] = new double[p * p];
                    addDesignGram(regularDesign(w, rest, form, kk, h, p, phase), h, p, ones(h), regularGram[phase]);
                }
                double[] g = regularGram[phase];
                for (int a = 0; a < p * p; a++) gram[col][a] += regularWeight[col][phase] * g[a];
            }
            // The ridge keeps Q determined where the design is not (a constant shift of Q is nearly the intercept's).
            for (int a = 0; a < p; a++) gram[col][a * p + a] += ridge * weights[col];
            double[] sol = HeadFit.Cholesky.solve(gram[col], rhs[col], p, 1);
            for (int phase = 0; phase < p; phase++) q[phase * cols + col] = sol[phase];
        }
        return rows;
    }

    /** {@link #design} of a regular window whose last reading has {@code phase}: lag j at phase − j. */
    private static double[] regularDesign(double[] w, double[] rest, ReadoutForm form, int kk, int h, int p, int phase) {
        int[] phases = new int[kk];
        for (int j = 0; j < kk; j++) phases[j] = Math.floorMod(phase - j, p);
        return design(w, rest, form, kk, h, p, phase, phases, kk);
    }

    /**
     * D [H][P]: row h = e(φ_h) − Σ_j W[h][j]·e(φ_j), less rest[h]·ē under a centred form ({@code rest} non-null;
     * ē the form's centre of the lags' e(φ_j)), without its 1/σ.
     */
    private static double[] design(double[] w, double[] rest, ReadoutForm form, int kk, int h, int p, int phase,
                                   int[] lagPhases, int lags) {
        double[] d = new double[h * p];
        for (int o = 0; o < h; o++) {
            d[o * p + SeasonalCycle.futurePhase(phase, o, p)] += 1;
            for (int j = 0; j < lags; j++) {
                d[o * p + lagPhases[j]] -= w[o * kk + j] + (rest == null ? 0 : form.centreShare(rest[o], j, lags));
            }
        }
        return d;
    }

    /** 1 − Σ_j W[h][j] for each horizon step: what a centred form's centre of the lags adds to a forecast. */
    private static double[] remainders(double[] w, int kk, int h) {
        double[] r = new double[h];
        for (int o = 0; o < h; o++) {
            r[o] = 1;
            for (int j = 0; j < kk; j++) r[o] -= w[o * kk + j];
        }
        return r;
    }

    private static double[] ones(int n) {
        double[] v = new double[n];
        Arrays.fill(v, 1);
        return v;
    }

    /** gram += Dᵀ·diag(weight)·D (one weight per row of D). */
    private static void addDesignGram(double[] d, int h, int p, double[] weight, double[] gram) {
        for (int o = 0; o < h; o++) {
            if (weight[o] == 0) continue;
            for (int a = 0; a < p; a++) {
                double da = weight[o] * d[o * p + a];
                if (da == 0) continue;
                for (int b = 0; b < p; b++) gram[a * p + b] += da * d[o * p + b];
            }
        }
    }
}
