package io.sidewinder.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DiscretizationTest {

    @Test
    void zohMatchesTheClosedForm() {
        double delta = 0.3, a = -2;
        assertEquals(Math.exp(-0.6), Discretization.ZOH.dA(delta, a), 1e-15);
        assertEquals((Math.exp(-0.6) - 1) / -2, Discretization.ZOH.dBFactor(delta, a), 1e-15);
    }

    @Test
    void zohFactorFromPrecomputedDAAgreesWithExpm1EverywhereItIsUsed() {
        for (double delta : new double[] {1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.5, 3, 1e3, 1e8}) {
            for (double a : new double[] {-1e-3, -0.5, -1, -16, -1e3}) {
                double dA = Discretization.ZOH.dA(delta, a);
                double exact = Discretization.ZOH.dBFactor(delta, a);
                double fast = Discretization.ZOH.dBFactor(delta, a, dA);
                assertEquals(exact, fast, 1e-11 * Math.abs(exact), "Δ=" + delta + " a=" + a);
            }
        }
    }

    @Test
    void zohInputGainIsBoundedForLongGapsWhileEulerGrows() {
        double a = -4;
        double zoh = Discretization.ZOH.dBFactor(1e9, a);
        assertEquals(0.25, zoh, 1e-12); // −1/a
        assertTrue(Discretization.EULER.dBFactor(1e9, a) > 1e8);
        assertEquals(0, Discretization.ZOH.dA(1e9, a));
    }

    @Test
    void smallStepsAgreeToFirstOrder() {
        double delta = 1e-5, a = -3;
        for (Discretization d : Discretization.values()) {
            assertEquals(1 + delta * a, d.dA(delta, a), 1e-9, d.name());
            assertEquals(delta, d.dBFactor(delta, a), 1e-9, d.name());
        }
    }

    @Test
    void bilinearMatchesS4() {
        double delta = 0.2, a = -1.5;
        assertEquals((1 + delta * a / 2) / (1 - delta * a / 2), Discretization.BILINEAR.dA(delta, a), 1e-15);
        assertEquals(delta / (1 - delta * a / 2), Discretization.BILINEAR.dBFactor(delta, a), 1e-15);
    }

    @Test
    void complexFormsReduceToRealOnesWhenImaginaryPartIsZero() {
        double[] out = new double[2];
        for (Discretization d : Discretization.values()) {
            d.dAComplex(0.4, -2.5, 0, out);
            assertEquals(d.dA(0.4, -2.5), out[0], 1e-14);
            assertEquals(0, out[1], 0);
            d.dBFactorComplex(0.4, -2.5, 0, out);
            assertEquals(d.dBFactor(0.4, -2.5), out[0], 1e-14);
        }
    }

    @Test
    void complexZohFactorIsExpm1OverA() {
        double delta = 0.7, re = -0.5, im = 3.0;
        double[] f = new double[2];
        Discretization.ZOH.dBFactorComplex(delta, re, im, f);
        // (exp(Δa) − 1)/a computed naively in complex double
        double er = Math.exp(delta * re) * Math.cos(delta * im) - 1, ei = Math.exp(delta * re) * Math.sin(delta * im);
        double den = re * re + im * im;
        assertEquals((er * re + ei * im) / den, f[0], 1e-14);
        assertEquals((ei * re - er * im) / den, f[1], 1e-14);
    }
}
