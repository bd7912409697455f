package io.sidewinder.ssm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InitializersAndGapTest {

    @Test
    void hippoLegSMatchesTheDefinition() {
        double[][] a = Initializers.hippoLegS(3);
        double s3 = Math.sqrt(3), s5 = Math.sqrt(5);
        assertArrayEquals(new double[] {-1, 0, 0}, a[0], 1e-15);
        assertArrayEquals(new double[] {-s3, -2, 0}, a[1], 1e-15);
        assertArrayEquals(new double[] {-s5, -s5 * s3, -3}, a[2], 1e-15);
        assertArrayEquals(new double[] {1, s3, s5}, Initializers.hippoLegSInput(3), 1e-15);
    }

    @Test
    void s4dInitsMatchTheirDefinitions() {
        assertArrayEquals(new double[] {-1, -2, -3, -4}, Initializers.s4dReal(4), 0);
        double[][] lin = Initializers.s4dLin(3);
        assertArrayEquals(new double[] {-0.5, -0.5, -0.5}, lin[0], 0);
        assertArrayEquals(new double[] {0, Math.PI, 2 * Math.PI}, lin[1], 1e-15);
    }

    @Test
    void dtBiasIsTheInverseSoftplusOfTheSampledStep() {
        float[] bias = Initializers.mambaDtBias(2000, 1e-3, 1e-1, 1e-4, new SplittableRandom(3));
        double min = 1, max = 0;
        for (float b : bias) {
            double dt = Activations.softplus((double) b);
            min = Math.min(min, dt);
            max = Math.max(max, dt);
        }
        assertEquals(1e-3, min, 2e-4);
        assertEquals(1e-1, max, 5e-3);
        for (double y : new double[] {1e-4, 1e-2, 0.5, 5}) {
            assertEquals(y, Activations.softplus(Initializers.inverseSoftplus(y)), 1e-12 * Math.max(1, y) + 1e-15);
        }
    }

    @Test
    void fp32SoftplusIsCorrectlyRoundedDoubleSoftplusAcrossItsRange() {
        for (double x = -40; x <= 25; x += 0.01) {
            float f = Activations.softplus((float) x);
            double d = Activations.softplus((double) (float) x);
            assertEquals((float) d, f, Math.ulp((float) d), "softplus(" + x + ")");
        }
    }

    @Test
    void gapRatioIsClampedAndTheFirstReadingCountsAsOneStep() {
        GapScaling g = new GapScaling(1000, 0.1, 100);
        assertEquals(1f, g.ratio(GapScaling.NONE, 123));
        assertEquals(2.5f, g.ratio(1000, 3500));
        assertEquals(0.1f, g.ratio(1000, 1000));
        assertEquals(100f, g.ratio(0, 10_000_000));
        assertThrows(IllegalArgumentException.class, () -> new GapScaling(0, 0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> new GapScaling(10, 0, 1));
    }

    @Test
    void fftConvolutionMatchesDirectConvolution() {
        SplittableRandom r = new SplittableRandom(8);
        for (int len : new int[] {1, 2, 5, 100, 1025}) {
            double[] k = new double[len], u = new double[len];
            for (int i = 0; i < len; i++) {
                k[i] = r.nextDouble() - 0.5;
                u[i] = r.nextDouble() - 0.5;
            }
            double[] y = Fft.causalConvolve(k, u);
            for (int t = 0; t < len; t++) {
                double s = 0;
                for (int j = 0; j <= t; j++) s += k[j] * u[t - j];
                assertEquals(s, y[t], 1e-12);
            }
        }
    }
}
