package io.sidewinder.trainer.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelState;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hand-written backward against central finite differences in double, after ../shared/docs/ssm-reference.md:
 * loss Σ y·g with random g over every model output, relative error <= 1e-6, for every parameter tensor, the inputs
 * and each layer's h0 (fourth-order central differences: see {@link #central}). The losses' own derivatives are
 * checked separately on the head outputs.
 */
class GradientCheckTest {
    static final ModelConfig CFG = ModelConfig.defaults(2).withShape(8, 2, 4, 3).withReadoutLags(4);
    static final int LEN = 70; // crosses two scan chunk boundaries (chunk 32)

    record Problem(TrainableModel model, double[] x, double[] gaps, double[] lags, double[] g, double[][] h0) {}

    static Problem problem(ModelConfig cfg, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        ModelParameters p = ModelParameters.initialise(cfg, seed);
        // Move away from the symmetric init so that every gradient is non-trivial.
        for (var t : p.all()) {
            for (int i = 0; i < t.data().length; i++) t.data()[i] += (float) (0.1 * r.nextGaussian());
        }
        TrainableModel m = new TrainableModel(p);
        int ch = cfg.channels();
        double[] x = new double[LEN * ch], gaps = new double[LEN], g = new double[LEN * cfg.headWidth()];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        for (int i = 0; i < LEN; i++) gaps[i] = (float) (0.3 + 2 * r.nextDouble());
        for (int i = 0; i < g.length; i++) g[i] = r.nextGaussian();
        double[][] h0 = new double[cfg.layers()][cfg.dInner() * cfg.dState()];
        for (double[] h : h0) for (int i = 0; i < h.length; i++) h[i] = 0.5 * r.nextGaussian();
        double[] lags = new double[LEN * cfg.readoutLags() * ch];
        for (int i = 0; i < lags.length; i++) lags[i] = r.nextGaussian();
        return new Problem(m, x, gaps, lags, g, h0);
    }

    /** L = Σ head·g. */
    static double loss(Problem p) {
        double[] head = p.model().forward(p.x(), p.gaps(), LEN, p.h0()).head;
        p.model().addReadout(p.lags(), LEN, head);
        double s = 0;
        for (int i = 0; i < head.length; i++) s += head[i] * p.g()[i];
        return s;
    }

    /** Analytic gradients of L into the model's gradients, dh0 and dx. */
    static void analytic(Problem p, double[][] dh0, double[] dx) {
        TrainableModel m = p.model();
        m.zeroGradients();
        var tape = m.forward(p.x(), p.gaps(), LEN, p.h0());
        m.readoutGradient(p.lags(), LEN, p.g(), m.gradients().get(io.sidewinder.ssm.LagReadout.WEIGHT));
        m.backward(tape, p.x(), p.gaps(), p.g(), p.h0(), dh0, dx);
    }

    /**
     * Central differences of fourth order, (−f(+2h) + 8f(+h) − 8f(−h) + f(−2h)) / 12h with h = 1e-3·max(1, |θ|).
     * The two-point form with h = 1e-6 (the reference's) is limited by the rounding noise of a double forward,
     * about 1e-8 absolute here, i.e. worse than 1e-6 relative for every gradient below 1e-2; this stencil's
     * truncation (~h⁴) and rounding (~ε·|L|/h) errors are both around 1e-11.
     */
    static double central(Problem p, double[] theta, int i) {
        double orig = theta[i], h = 1e-3 * Math.max(1, Math.abs(orig));
        double[] f = new double[4];
        double[] steps = {2 * h, h, -h, -2 * h};
        for (int k = 0; k < 4; k++) {
            theta[i] = orig + steps[k];
            f[k] = loss(p);
        }
        theta[i] = orig;
        return (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h);
    }

    static void check(String what, double analytic, double numeric, double tolerance) {
        double scale = Math.max(Math.abs(analytic), Math.abs(numeric));
        double err = Math.abs(analytic - numeric);
        // Relative error where the gradient has a scale; rounding-level absolute error where it is ~0.
        if (scale > 1e-3 ? err / scale > tolerance : err > 1e-9) {
            fail(String.format("%s: analytic %.12g vs numeric %.12g (rel %.2e)", what, analytic, numeric, err / scale));
        }
    }

    static void checkAllTensors(Problem p, String label) {
        analytic(p, null, null);
        SplittableRandom r = new SplittableRandom(5);
        for (var e : p.model().parameters().entrySet()) {
            double[] theta = e.getValue(), grad = p.model().gradients().get(e.getKey()).clone();
            for (int probe = 0; probe < Math.min(8, theta.length); probe++) {
                int i = probe == 0 ? 0 : probe == 1 ? theta.length - 1 : r.nextInt(theta.length);
                check(label + " " + e.getKey() + "[" + i + "]", grad[i], central(p, theta, i), 1e-6);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Discretization.class, names = {"ZOH", "EULER"})
    void everyParameterTensorMatchesFiniteDifferences(Discretization disc) {
        checkAllTensors(problem(CFG.withDiscretization(disc), 3), disc.name());
    }

    @Test
    void largeDeltaRawOnTheSoftplusPassthroughAlsoMatches() {
        Problem p = problem(CFG, 6);
        double[] bias = p.model().parameters().get("layers.1.dt_proj.bias");
        java.util.Arrays.fill(bias, 0, bias.length / 2, 25); // Δ_raw > 20: softplus(x) = x, huge Δ·|A|
        checkAllTensors(p, "Δ_raw > 20");
    }

    @Test
    void inputsAndInitialStatesMatchFiniteDifferences() {
        Problem p = problem(CFG, 4);
        double[][] dh0 = new double[CFG.layers()][CFG.dInner() * CFG.dState()];
        double[] dx = new double[p.x().length];
        analytic(p, dh0, dx);
        SplittableRandom r = new SplittableRandom(9);
        for (int probe = 0; probe < 10; probe++) {
            int i = r.nextInt(p.x().length);
            check("x[" + i + "]", dx[i], central(p, p.x(), i), 1e-6);
        }
        for (int l = 0; l < CFG.layers(); l++) {
            for (int probe = 0; probe < 8; probe++) {
                int i = r.nextInt(dh0[l].length);
                check("h0[" + l + "][" + i + "]", dh0[l][i], central(p, p.h0()[l], i), 1e-6);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TrainableModel.Loss.class)
    void lossDerivativesMatchFiniteDifferencesOnTheHeadOutputs(TrainableModel.Loss loss) {
        TrainableModel m = new TrainableModel(ModelParameters.initialise(CFG, 1));
        SplittableRandom r = new SplittableRandom(2);
        int len = 5, hw = CFG.headWidth(), hc = hw / 2;
        double[] head = new double[len * hw], targets = new double[len * hc], dHead = new double[head.length];
        for (int i = 0; i < head.length; i++) head[i] = r.nextGaussian();
        for (int i = 0; i < targets.length; i++) targets[i] = i % 4 == 0 ? Double.NaN : r.nextGaussian();
        double[][] std = new double[len][CFG.channels()];
        for (double[] s : std) for (int k = 0; k < s.length; k++) s[k] = 0.2 + r.nextDouble();
        m.headLoss(head, targets, std, len, loss, 1, dHead);
        for (int i = 0; i < head.length; i++) {
            double o = head[i], h = 1e-6 * Math.max(1, Math.abs(o));
            head[i] = o + h;
            double plus = m.headLoss(head, targets, std, len, loss, 1, new double[head.length])[0];
            head[i] = o - h;
            double minus = m.headLoss(head, targets, std, len, loss, 1, new double[head.length])[0];
            head[i] = o;
            check(loss + " dhead[" + i + "]", dHead[i], (plus - minus) / (2 * h), 1e-6);
        }
    }

    @Test
    void theGaussianLossClampsTheLogVarianceAsTheServedForecastDoes() {
        TrainableModel m = new TrainableModel(ModelParameters.initialise(CFG, 1));
        int hw = CFG.headWidth(), hc = hw / 2;
        double[] head = new double[hw], targets = new double[hc], dHead = new double[hw];
        // A flat stretch fitted almost exactly: mean 1e-8 off, log-variance pushed far below the clamp.
        for (int i = 0; i < hc; i++) {
            head[i] = 1e-8;
            head[hc + i] = -800;
        }
        double[] sum = m.headLoss(head, targets, 1, TrainableModel.Loss.GAUSSIAN_NLL, 1, dHead);
        assertTrue(Double.isFinite(sum[0]), "loss " + sum[0]);
        for (int i = 0; i < hc; i++) {
            assertEquals(1e-8 * Math.exp(30), dHead[i], 1e-8 * Math.exp(30) * 1e-12, "mean gradient at the clamp");
            assertEquals(0, dHead[hc + i], "no log-variance gradient further out beyond the clamp");
        }
        // A large error out there: the step back towards the clamp (up) is kept, so the output can return.
        for (int i = 0; i < hc; i++) {
            head[i] = 1;
            head[hc + i] = -40;
        }
        m.headLoss(head, targets, 1, TrainableModel.Loss.GAUSSIAN_NLL, 1, dHead);
        assertEquals(0.5 * (1 - Math.exp(30)), dHead[hc], 1e-6 * Math.exp(30));
    }

    @Test
    void doubleForwardEqualsTheServedFp32Model() {
        ModelConfig cfg = ModelConfig.defaults(2).withShape(16, 2, 8, 4);
        ModelParameters params = ModelParameters.initialise(cfg, 8);
        TrainableModel m = new TrainableModel(params);
        int len = 100;
        float[] xf = new float[len * 2], gf = new float[len];
        double[] xd = new double[len * 2], gd = new double[len];
        for (int i = 0; i < xf.length; i++) xd[i] = xf[i] = (float) Math.sin(i * 0.1);
        for (int i = 0; i < len; i++) gd[i] = gf[i] = 1 + (i % 3) * 0.5f;
        double[] head = m.forward(xd, gd, len, null).head;
        float[] served = new MambaModel(params).forward(xf, gf, len, ModelState.zeros(cfg), true);
        for (int i = 0; i < head.length; i++) {
            assertTrue(Math.abs(head[i] - served[i]) <= 1e-5 + 3e-4 * Math.abs(head[i]),
                    "head[" + i + "]: " + head[i] + " vs " + served[i]);
        }
    }

    @Test
    void trainingWindowsFeedTheReadoutWhatTheServedForecasterFeedsIt() {
        ModelConfig cfg = ModelConfig.defaults(1).withShape(16, 2, 8, 4).withReadoutLags(6);
        ModelParameters params = ModelParameters.initialise(cfg, 8);
        SplittableRandom r = new SplittableRandom(3);
        float[] w = params.data(io.sidewinder.ssm.LagReadout.WEIGHT);
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.3 * r.nextGaussian());
        int len = 40;
        long[] times = new long[len];
        float[][] values = new float[len][1];
        for (int t = 0; t < len; t++) {
            times[t] = 1_000L * t + (t % 3) * 200;
            values[t][0] = (float) (10 + 4 * Math.sin(t * 0.3) + 0.5 * r.nextGaussian());
        }
        var sample = io.sidewinder.trainer.train.Windows.sample(cfg, new io.sidewinder.trainer.train.Windows.Series(times, values),
                new io.sidewinder.trainer.train.Windows.Window(0, 0, len, len));
        TrainableModel m = new TrainableModel(params);
        double[] head = m.forward(sample.x(), sample.gaps(), len, null).head;
        m.addReadout(sample.lags(), len, head);
        io.sidewinder.ssm.Forecaster f = new io.sidewinder.ssm.Forecaster(new MambaModel(params));
        io.sidewinder.ssm.StreamState s = io.sidewinder.ssm.StreamState.fresh(cfg);
        for (int t = 0; t < len; t++) {
            io.sidewinder.ssm.Forecaster.Prediction p = f.advance(s, times[t], values[t]);
            for (int h = 0; h < cfg.horizon(); h++) {
                double want = head[t * cfg.headWidth() + h] * sample.std()[t][0] + sample.mean()[t][0];
                assertTrue(Math.abs(want - p.mean(h, 0)) <= 1e-4 + 3e-4 * Math.abs(want),
                        "t " + t + " h " + h + ": trainer " + want + " vs stream " + p.mean(h, 0));
            }
        }
    }
}
