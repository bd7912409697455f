package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sidewinder.ssm.Discretization;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The double-precision oracle of the CUDA parity tests checked on the CPU (runs everywhere): its analytic
 * gradients against central differences of Σ dout·y, for every input, with h0 and resets.
 */
class ScanReferenceTest {

    @ParameterizedTest
    @EnumSource(Discretization.class)
    void gradientsMatchCentralDifferences(Discretization disc) {
        ScanBatch in = ScanProblems.random(2, 9, 3, 4, disc, true, true, 11 + disc.ordinal());
        in.resets()[5] = true;
        SplittableRandom r = new SplittableRandom(3);
        double[] h0 = ScanProblems.toDouble(ScanProblems.uniform(r, 2 * 3 * 4, 1f));
        double[] dout = ScanProblems.toDouble(ScanProblems.uniform(r, 2 * 9 * 3, 1f));
        ScanReference.Gradients g = ScanReference.backward(in, h0, dout);

        check("u", in.u(), g.du(), in, h0, dout);
        check("deltaRaw", in.deltaRaw(), g.dDeltaRaw(), in, h0, dout);
        check("deltaBias", in.deltaBias(), g.dDeltaBias(), in, h0, dout);
        check("a", in.a(), g.da(), in, h0, dout);
        check("b", in.b(), g.db(), in, h0, dout);
        check("c", in.c(), g.dc(), in, h0, dout);
        check("d", in.d(), g.dd(), in, h0, dout);
        check("z", in.z(), g.dz(), in, h0, dout);
        for (int i = 0; i < h0.length; i++) {
            final int k = i;
            double num = central(x -> h0[k] += x, in, h0, dout);
            assertEquals(num, g.dh0()[i], 2e-4 * Math.max(1, Math.abs(num)), "dh0[" + i + "]");
        }
    }

    /** Compares each analytic gradient entry with a central difference (inputs are fp32, so h = 1e-3·scale). */
    private static void check(String name, float[] x, double[] analytic, ScanBatch in, double[] h0, double[] dout) {
        for (int i = 0; i < x.length; i++) {
            final int k = i;
            float orig = x[k];
            double step = 1e-2 * Math.max(1, Math.abs(orig));
            double num = central(delta -> x[k] = (float) (orig + delta), in, h0, dout, step);
            x[k] = orig;
            assertEquals(num, analytic[i], 2e-3 * Math.max(1, Math.abs(num)), name + "[" + i + "]");
        }
    }

    private static double central(Consumer<Double> set, ScanBatch in, double[] h0, double[] dout) {
        double h = 1e-6;
        set.accept(h);
        double plus = loss(in, h0, dout);
        set.accept(-2 * h);
        double minus = loss(in, h0, dout);
        set.accept(h);
        return (plus - minus) / (2 * h);
    }

    /** Central difference with an fp32-sized step, fourth order (the inputs can only move in fp32). */
    private static double central(Consumer<Double> setTo, ScanBatch in, double[] h0, double[] dout, double h) {
        setTo.accept(h);
        double p1 = loss(in, h0, dout);
        setTo.accept(-h);
        double m1 = loss(in, h0, dout);
        setTo.accept(2 * h);
        double p2 = loss(in, h0, dout);
        setTo.accept(-2 * h);
        double m2 = loss(in, h0, dout);
        return (8 * (p1 - m1) - (p2 - m2)) / (12 * h);
    }

    private static double loss(ScanBatch in, double[] h0, double[] dout) {
        double[] y = ScanReference.forward(in, h0, 4).y();
        double s = 0;
        for (int i = 0; i < y.length; i++) s += y[i] * dout[i];
        return s;
    }
}
