package io.sidewinder.ssm.oracle;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Element-wise |actual − expected| <= atol + rtol·|expected|, reporting the worst element. A non-finite expected
 * or actual value fails outright: the comparison would otherwise be false for NaN and let it pass silently.
 */
public final class Tolerance {
    private Tolerance() {}

    public static void assertClose(double[] expected, float[] actual, double rtol, double atol, String what) {
        double[] a = new double[actual.length];
        for (int i = 0; i < a.length; i++) a[i] = actual[i];
        assertClose(expected, a, rtol, atol, what);
    }

    public static void assertClose(double[] expected, double[] actual, double rtol, double atol, String what) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + " != " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Double.isFinite(expected[i])) {
                fail(what + ": non-finite expected value " + expected[i] + " at " + i);
            }
            if (!Double.isFinite(actual[i])) {
                fail(what + ": non-finite value " + actual[i] + " at " + i);
            }
            double excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
            // NaN-safe: a NaN excess must count as a violation, never silently compare false.
            if (!(excess <= worstExcess)) {
                worstExcess = excess;
                worst = i;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: element %d is %.9g, expected %.9g (rtol %.1e, atol %.1e)", what, worst,
                    actual[worst], expected[worst], rtol, atol));
        }
    }

    public static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    public static float[] toFloat(double[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) x[i];
        return y;
    }
}
