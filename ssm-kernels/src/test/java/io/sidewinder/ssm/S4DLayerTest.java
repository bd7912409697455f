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
    void kernelStartsAtTwiceTheRealPartOfCTimesDB(int len) {
        // Known modes: two oscillating, one real, one at A = 0 (where ZOH's dB is Δ·B, the limit).
        double[] aRe = {-0.5, -0.05, -2.0, 0.0}, aIm = {Math.PI, 3.0, 0.0, 0.0};
        double[] bRe = {1.0, 0.4, -0.7, 0.9}, bIm = {0.0, -1.2, 0.3, 0.5};
        double[] cRe = {0.3, -1.1, 0.8, 0.6}, cIm = {-0.7, 0.2, 0.0, -0.4};
        double dt = 0.1, dSkip = 0.25;
        S4DLayer layer = new S4DLayer(1, 4, aRe, aIm, bRe, bIm, cRe, cIm, new double[] {dSkip}, new double[] {dt},
                Discretization.ZOH);
        // K_0 = 2·Re(Σ C·dB) and K_1 = 2·Re(Σ C·dB·dA), with dA = exp(Δa) and dB = (exp(Δa) − 1)/a · b by hand.
        double k0 = 0, k1 = 0;
        for (int m = 0; m < 4; m++) {
            double er = Math.exp(dt * aRe[m]) * Math.cos(dt * aIm[m]), ei = Math.exp(dt * aRe[m]) * Math.sin(dt * aIm[m]);
            double den = aRe[m] * aRe[m] + aIm[m] * aIm[m], fr, fi;
            if (den == 0) {
                fr = dt;
                fi = 0;
            } else {
                double nr = er - 1, ni = ei;
                fr = (nr * aRe[m] + ni * aIm[m]) / den;
                fi = (ni * aRe[m] - nr * aIm[m]) / den;
            }
            double dbr = fr * bRe[m] - fi * bIm[m], dbi = fr * bIm[m] + fi * bRe[m];
            double cdbr = cRe[m] * dbr - cIm[m] * dbi, cdbi = cRe[m] * dbi + cIm[m] * dbr;
            k0 += 2 * cdbr;
            k1 += 2 * (cdbr * er - cdbi * ei);
        }
        double[] k = layer.kernel(0, len);
        assertEquals(k0, k[0], 1e-12, "K_0");
        if (len > 1) assertEquals(k1, k[1], 1e-12, "K_1");
        double[] impulse = new double[len];
        impulse[0] = 1;
        // The impulse response at t = 0 is K_0 plus the skip D, in both forms.
        assertEquals(k0 + dSkip, layer.recurrent(0, impulse)[0], 1e-12, "recurrence");
        assertEquals(k0 + dSkip, layer.convolve(0, impulse)[0], 1e-12, "convolution");
    }

    static double scale(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return Math.max(1, m);
    }
}
