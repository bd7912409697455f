package io.sidewinder.trainer.grad;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The fp32 façade backprop ({@link Fp32Backprop}) against the double {@link TrainableModel} (itself checked by
 * finite differences in {@link GradientCheckTest}): the same head outputs and, for L = Σ head·g over a batch of
 * sequences, the same gradient of every parameter tensor within fp32 tolerance — on the scalar backend and on
 * this JVM's backend (SIMD when the Vector API is on).
 */
class Fp32BackpropTest {
    static final int BATCH = 3, LEN = 150; // crosses the fp32 scan's chunk boundaries (64)
    /** fp32 vs double: relative to each element and to the tensor's largest gradient (sums over B·L rows). */
    static final double RTOL = 3e-4, ATOL_OF_MAX = 3e-5;

    @ParameterizedTest
    @EnumSource(value = Discretization.class, names = {"ZOH", "EULER"})
    void gradientsMatchTheDoubleModel(Discretization disc) {
        ModelConfig cfg = ModelConfig.defaults(2).withShape(16, 2, 8, 3).withDiscretization(disc);
        SplittableRandom r = new SplittableRandom(17);
        ModelParameters p = ModelParameters.initialise(cfg, 17);
        for (var t : p.all()) {
            for (int i = 0; i < t.data().length; i++) t.data()[i] += (float) (0.1 * r.nextGaussian());
        }
        int ch = cfg.channels(), hw = cfg.headWidth();
        float[] x = new float[BATCH * LEN * ch], gaps = new float[BATCH * LEN], g = new float[BATCH * LEN * hw];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < gaps.length; i++) gaps[i] = (float) (0.3 + 2 * r.nextDouble());
        for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();

        TrainableModel ref = new TrainableModel(p);
        double[] refHead = new double[g.length];
        for (int b = 0; b < BATCH; b++) {
            double[] xb = slice(x, b * LEN * ch, LEN * ch), gb = slice(gaps, b * LEN, LEN), db = slice(g, b * LEN * hw, LEN * hw);
            var tape = ref.forward(xb, gb, LEN, null);
            System.arraycopy(tape.head, 0, refHead, b * LEN * hw, LEN * hw);
            ref.backward(tape, xb, gb, db, null, null, null);
        }
        for (SsmKernels kernels : List.of(ScalarKernels.INSTANCE, Kernels.get())) {
            Fp32Backprop fp = new Fp32Backprop(p, kernels);
            Fp32Backprop.Tape tape = fp.forward(x, gaps, BATCH, LEN);
            close(refHead, tape.head, kernels.name() + " " + disc + " head");
            fp.backward(tape, g);
            for (Map.Entry<String, double[]> e : ref.gradients().entrySet()) {
                close(e.getValue(), fp.gradients().get(e.getKey()), kernels.name() + " " + disc + " d" + e.getKey());
            }
        }
    }

    static void close(double[] expected, float[] actual, String what) {
        double max = 0;
        for (double v : expected) max = Math.max(max, Math.abs(v));
        assertTrue(max > 0, what + ": the reference gradient is all zero, the check would be vacuous");
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= RTOL * Math.abs(expected[i]) + ATOL_OF_MAX * max)) {
                fail(String.format("%s[%d]: %.8g vs double %.8g (max |g| %.3g)", what, i, actual[i], expected[i], max));
            }
        }
    }

    static double[] slice(float[] x, int from, int len) {
        double[] d = new double[len];
        for (int i = 0; i < len; i++) d[i] = x[from + i];
        return d;
    }
}
