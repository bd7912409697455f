package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class S4DLayerTest {

    static double[] signal(int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] u = new double[len];
        for (int i = 0; i < len; i++) u[i] = Math.sin(i * 0.07) + (r.nextDouble() - 0.5);
        return u;
    }

    @ParameterizedTest(name = "L={0} lin={1} {2}")
    @CsvSource({"1,true,ZOH", "3,true,ZOH", "64,true,ZOH", "65,true,ZOH", "1000,true,ZOH", "4097,true,ZOH",
            "300,false,ZOH", "300,true,BILINEAR", "2000,false,BILINEAR", "500,true,EULER"})
    void convolutionModeEqualsRecurrenceInDouble(int len, boolean lin, Discretization disc) {
        S4DLayer layer = S4DLayer.initialised(3, 16, lin, 0.01, disc, new SplittableRandom(len));
        for (int ch = 0; ch < 3; ch++) {
            double[] u = signal(len, ch);
            double[] rec = layer.recurrent(ch, u);
            double[] conv = layer.convolve(ch, u);
            assertClose(rec, conv, 1e-9, 1e-9 * scale(rec), "conv vs recurrence, channel " + ch);
        }
    }

    @ParameterizedTest(name = "L={0} lin={1}")
    @CsvSource({"10,true", "200,true", "3000,true", "3000,false"})
    void fp32RecurrenceStaysWithin1e5OfTheDoubleConvolution(int len, boolean lin) {
        S4DLayer layer = S4DLayer.initialised(2, 16, lin, 0.01, Discretization.ZOH, new SplittableRandom(5));
        for (int ch = 0; ch < 2; ch++) {
            double[] u = signal(len, ch + 10);
            float[] uf = new float[len];
            double[] ud = new double[len];
            for (int i = 0; i < len; i++) {
                uf[i] = (float) u[i];
                ud[i] = uf[i];
            }
            double[] conv = layer.convolve(ch, ud);
            float[] rec = layer.recurrentFloat(ch, uf);
            assertClose(conv, rec, 1e-5, 1e-5 * scale(conv), "fp32 recurrence, channel " + ch);
        }
    }

    @ParameterizedTest(name = "L={0}")
    @CsvSource({"1", "2", "63", "64"})
    void kernelOfLengthOneIsCTimesDB(int len) {
        S4DLayer layer = S4DLayer.initialised(1, 4, true, 0.1, Discretization.ZOH, new SplittableRandom(1));
        double[] impulse = new double[len];
        impulse[0] = 1;
        double[] k = layer.kernel(0, len);
        double[] rec = layer.recurrent(0, impulse);
        // The impulse response of the recurrence is the kernel plus D at t = 0.
        double d0 = rec[0] - k[0];
        for (int t = 1; t < len; t++) {
            assertEquals(k[t], rec[t], 1e-12 * Math.max(1, Math.abs(k[t])));
        }
        assertEquals(layer.convolve(0, impulse)[0], k[0] + d0, 1e-12);
    }

    static double scale(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return Math.max(1, m);
    }
}
