package io.sidewinder.trainer;

import io.sidewinder.ssm.CausalNormalizer;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelState;

/**
 * A fast, closed-form fit of the forecasting head only: the Mamba layers stay at their initialisation and act as
 * a fixed random state-space feature map (reservoir style); the head's mean rows are fitted by ridge regression
 * from those features to the next H normalised readings, and each log-variance output becomes a constant
 * equal to the log of its residual variance. It takes seconds, which is what the demo needs; full training
 * (backprop through the scan) is the trainer's job.
 *
 * <p>Sequences go through exactly the stream's path: the shared gap function and the causal normaliser, in the
 * same order, with targets normalised by the statistics at the time the forecast is made.
 */
public final class HeadFit {
    private HeadFit() {}

    /** Positions at the start of each sequence that are not fitted (normaliser warm-up). */
    static final int WARMUP = 50;

    /** One sensor's history: event times (ms) and [L][channels] values. */
    public record Sequence(long[] eventTimes, float[][] values) {}

    /** Fits the head of {@code params} in place on the sequences; returns the mean squared error (normalised units). */
    public static double fit(ModelParameters params, Iterable<Sequence> sequences, double ridge) {
        ModelConfig c = params.config();
        MambaModel model = new MambaModel(params);
        int dm = c.dModel(), p = dm + 1, h = c.horizon(), ch = c.channels(), outs = h * ch;
        double[] gram = new double[p * p];
        double[] cross = new double[p * outs];
        long samples = 0;
        java.util.List<double[]> targets = new java.util.ArrayList<>();
        java.util.List<double[]> rows = new java.util.ArrayList<>();
        for (Sequence seq : sequences) {
            int len = seq.eventTimes().length;
            float[] x = new float[len * ch], gaps = new float[len];
            double[][] mean = new double[len][ch], std = new double[len][ch];
            CausalNormalizer norm = CausalNormalizer.forConfig(c);
            long prev = GapScaling.NONE;
            float[] xn = new float[ch];
            for (int t = 0; t < len; t++) {
                gaps[t] = c.gap().ratio(prev, seq.eventTimes()[t]);
                prev = seq.eventTimes()[t];
                norm.update(seq.values()[t]);
                norm.normalize(seq.values()[t], xn);
                System.arraycopy(xn, 0, x, t * ch, ch);
                for (int k = 0; k < ch; k++) {
                    mean[t][k] = norm.mean(k);
                    std[t][k] = norm.std(k);
                }
            }
            float[] feats = model.features(x, gaps, len, ModelState.zeros(c), true);
            // Skip the normaliser's warm-up: with a handful of readings its std is not yet a scale.
            for (int t = Math.min(WARMUP, len); t + h < len; t++) {
                double[] row = new double[p];
                for (int i = 0; i < dm; i++) row[i] = feats[t * dm + i];
                row[dm] = 1;
                double[] y = new double[outs];
                for (int s = 0; s < h; s++) {
                    for (int k = 0; k < ch; k++) {
                        y[s * ch + k] = (seq.values()[t + 1 + s][k] - mean[t][k]) / std[t][k];
                    }
                }
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < p; j++) gram[i * p + j] += row[i] * row[j];
                    for (int o = 0; o < outs; o++) cross[i * outs + o] += row[i] * y[o];
                }
                rows.add(row);
                targets.add(y);
                samples++;
            }
        }
        if (samples < p) {
            throw new IllegalArgumentException("need at least " + p + " training positions, got " + samples);
        }
        for (int i = 0; i < dm; i++) gram[i * p + i] += ridge * samples;
        double[] w = Cholesky.solve(gram, cross, p, outs);
        float[] headW = params.data("head.weight"), headB = params.data("head.bias");
        double[] sse = new double[outs];
        for (int n = 0; n < rows.size(); n++) {
            double[] row = rows.get(n), y = targets.get(n);
            for (int o = 0; o < outs; o++) {
                double pred = 0;
                for (int i = 0; i < p; i++) pred += row[i] * w[i * outs + o];
                double e = y[o] - pred;
                sse[o] += e * e;
            }
        }
        double total = 0;
        for (int o = 0; o < outs; o++) {
            for (int i = 0; i < dm; i++) {
                headW[o * dm + i] = (float) w[i * outs + o];
                headW[(outs + o) * dm + i] = 0f;
            }
            headB[o] = (float) w[dm * outs + o];
            double var = Math.max(sse[o] / samples, 1e-6);
            headB[outs + o] = (float) Math.log(var);
            total += sse[o];
        }
        return total / (samples * outs);
    }

    /** Symmetric positive-definite solve by Cholesky, for several right-hand sides ([p][outs]). */
    static final class Cholesky {
        static double[] solve(double[] a, double[] b, int p, int outs) {
            double[] l = new double[p * p];
            for (int i = 0; i < p; i++) {
                for (int j = 0; j <= i; j++) {
                    double s = a[i * p + j];
                    for (int k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
                    if (i == j) {
                        if (s <= 0) throw new ArithmeticException("matrix is not positive definite at " + i);
                        l[i * p + i] = Math.sqrt(s);
                    } else {
                        l[i * p + j] = s / l[j * p + j];
                    }
                }
            }
            double[] x = b.clone();
            for (int o = 0; o < outs; o++) {
                for (int i = 0; i < p; i++) {
                    double s = x[i * outs + o];
                    for (int k = 0; k < i; k++) s -= l[i * p + k] * x[k * outs + o];
                    x[i * outs + o] = s / l[i * p + i];
                }
                for (int i = p - 1; i >= 0; i--) {
                    double s = x[i * outs + o];
                    for (int k = i + 1; k < p; k++) s -= l[k * p + i] * x[k * outs + o];
                    x[i * outs + o] = s / l[i * p + i];
                }
            }
            return x;
        }
    }
}
