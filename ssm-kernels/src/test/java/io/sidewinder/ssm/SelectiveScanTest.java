package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.oracle.DoubleOracle;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SelectiveScanTest {
    static final double RTOL = 3e-4, ATOL = 1e-5;

    /** Random scan problem with realistic magnitudes; fields are mutable so tests can inject edge cases. */
    static final class Problem {
        final int len, dd, n;
        final float[] u, delta, a, b, c, d, z, h0;
        boolean[] resets;
        Discretization disc = Discretization.ZOH;

        Problem(int len, int dd, int n, long seed, boolean gate) {
            this.len = len;
            this.dd = dd;
            this.n = n;
            SplittableRandom r = new SplittableRandom(seed);
            u = gauss(r, len * dd);
            delta = new float[len * dd];
            for (int i = 0; i < delta.length; i++) delta[i] = (float) Math.exp(Math.log(1e-3) + r.nextDouble() * Math.log(500));
            a = new float[dd * n];
            for (int i = 0; i < a.length; i++) a[i] = -(float) ((i % n + 1) * (0.5 + r.nextDouble()));
            b = gauss(r, len * n);
            c = gauss(r, len * n);
            d = gauss(r, dd);
            z = gate ? gauss(r, len * dd) : null;
            h0 = gauss(r, dd * n);
        }

        static float[] gauss(SplittableRandom r, int size) {
            float[] x = new float[size];
            for (int i = 0; i < size; i++) x[i] = (float) (r.nextDouble() * 2 - 1) * 1.7f;
            return x;
        }

        SelectiveScan.Inputs inputs() {
            return new SelectiveScan.Inputs(len, dd, n, u, delta, a, b, c, d, z, resets, disc);
        }

        double[] oracle(double[] hOut) {
            double[] h = toDouble(h0);
            double[] y = DoubleOracle.scan(len, dd, n, toDouble(u), toDouble(delta), toDouble(a), toDouble(b),
                    toDouble(c), toDouble(d), z == null ? null : toDouble(z), resets, disc, h);
            System.arraycopy(h, 0, hOut, 0, h.length);
            return y;
        }
    }

    @ParameterizedTest(name = "L={0}")
    @ValueSource(ints = {1, 2, 3, 5, 17, 255, 256, 257, 1000})
    void sequentialMatchesDoubleOracleIncludingFinalState(int len) {
        Problem p = new Problem(len, 7, 5, len, true);
        float[] h = p.h0.clone(), y = new float[len * p.dd];
        SelectiveScan.sequential(p.inputs(), h, y);
        double[] hRef = new double[h.length];
        assertClose(p.oracle(hRef), y, RTOL, ATOL, "y");
        assertClose(hRef, h, RTOL, ATOL, "final state");
    }

    @ParameterizedTest(name = "L={0}")
    @ValueSource(ints = {1, 3, 63, 64, 65, 127, 500, 1031})
    void chunkedParallelScanEqualsSequentialScan(int len) {
        Problem p = new Problem(len, 6, 4, 100 + len, true);
        float[] hSeq = p.h0.clone(), ySeq = new float[len * p.dd];
        SelectiveScan.sequential(p.inputs(), hSeq, ySeq);
        for (boolean parallel : new boolean[] {false, true}) {
            float[] hPar = p.h0.clone(), yPar = new float[len * p.dd];
            SelectiveScan.chunked(p.inputs(), hPar, yPar, 64, parallel);
            assertClose(toDouble(ySeq), yPar, RTOL, ATOL, "y (parallel=" + parallel + ")");
            assertClose(toDouble(hSeq), hPar, RTOL, ATOL, "final state (parallel=" + parallel + ")");
        }
        double[] hRef = new double[hSeq.length];
        float[] h = p.h0.clone(), y = new float[len * p.dd];
        SelectiveScan.chunked(p.inputs(), h, y, 7, true);
        assertClose(p.oracle(hRef), y, RTOL, ATOL, "chunk 7 vs oracle");
    }

    @Test
    void scanOverTwoSegmentsWithCarriedStateEqualsOneScan() {
        int len = 300, split = 123;
        Problem whole = new Problem(len, 5, 8, 7, true);
        float[] h = whole.h0.clone(), y = new float[len * whole.dd];
        SelectiveScan.sequential(whole.inputs(), h, y);

        float[] h2 = whole.h0.clone(), y2 = new float[len * whole.dd];
        for (int[] range : new int[][] {{0, split}, {split, len}}) {
            int from = range[0], to = range[1], l = to - from;
            SelectiveScan.Inputs part = new SelectiveScan.Inputs(l, whole.dd, whole.n,
                    slice(whole.u, from * whole.dd, l * whole.dd), slice(whole.delta, from * whole.dd, l * whole.dd),
                    whole.a, slice(whole.b, from * whole.n, l * whole.n), slice(whole.c, from * whole.n, l * whole.n),
                    whole.d, slice(whole.z, from * whole.dd, l * whole.dd), null, whole.disc);
            float[] yp = new float[l * whole.dd];
            SelectiveScan.chunked(part, h2, yp, 32, true);
            System.arraycopy(yp, 0, y2, from * whole.dd, yp.length);
        }
        assertClose(toDouble(y), y2, RTOL, ATOL, "y");
        assertClose(toDouble(h), h2, RTOL, ATOL, "final state");
    }

    @Test
    void resetDropsEverythingBeforeIt() {
        int len = 200, at = 77;
        Problem p = new Problem(len, 4, 4, 3, true);
        p.resets = new boolean[len];
        p.resets[at] = true;
        float[] h = p.h0.clone(), y = new float[len * p.dd];
        SelectiveScan.chunked(p.inputs(), h, y, 16, true);
        double[] hRef = new double[h.length];
        assertClose(p.oracle(hRef), y, RTOL, ATOL, "y with reset");

        // The tail after the reset must equal a fresh scan (h0 = 0) of the tail alone.
        int l = len - at;
        SelectiveScan.Inputs tail = new SelectiveScan.Inputs(l, p.dd, p.n, slice(p.u, at * p.dd, l * p.dd),
                slice(p.delta, at * p.dd, l * p.dd), p.a, slice(p.b, at * p.n, l * p.n), slice(p.c, at * p.n, l * p.n),
                p.d, slice(p.z, at * p.dd, l * p.dd), null, p.disc);
        float[] hTail = new float[h.length], yTail = new float[l * p.dd];
        SelectiveScan.sequential(tail, hTail, yTail);
        assertArrayEquals(yTail, slice(y, at * p.dd, l * p.dd), 1e-6f);
        assertArrayEquals(hTail, h, 1e-6f);
    }

    @Test
    void hugeStepsUnderflowToFiniteBoundedStates() {
        Problem p = new Problem(64, 4, 4, 11, false);
        java.util.Arrays.fill(p.delta, 1e6f); // exp(Δ·A) underflows to 0
        for (Discretization disc : Discretization.values()) {
            p.disc = disc;
            float[] h = p.h0.clone(), y = new float[64 * p.dd];
            SelectiveScan.chunked(p.inputs(), h, y, 16, true);
            for (float v : y) assertTrue(Float.isFinite(v), disc + " output finite");
            for (float v : h) assertTrue(Float.isFinite(v), disc + " state finite");
            if (disc == Discretization.ZOH) {
                // ZOH with dA = 0: h = −B·u/A exactly (bounded by |B·u/A|).
                int t = 63;
                for (int d = 0; d < p.dd; d++) {
                    for (int j = 0; j < p.n; j++) {
                        double expect = -p.b[t * p.n + j] * p.u[t * p.dd + d] / p.a[d * p.n + j];
                        assertTrue(Math.abs(h[d * p.n + j] - expect) <= 1e-5 + 1e-5 * Math.abs(expect));
                    }
                }
            }
        }
    }

    @Test
    void everyDiscretizationMatchesTheOracle() {
        for (Discretization disc : Discretization.values()) {
            Problem p = new Problem(150, 3, 6, 21, true);
            p.disc = disc;
            float[] h = p.h0.clone(), y = new float[150 * p.dd];
            SelectiveScan.chunked(p.inputs(), h, y, 40, true);
            double[] hRef = new double[h.length];
            assertClose(p.oracle(hRef), y, RTOL, ATOL, disc + " y");
            assertClose(hRef, h, RTOL, ATOL, disc + " h");
        }
    }

    static float[] slice(float[] x, int from, int len) {
        if (x == null) return null;
        float[] s = new float[len];
        System.arraycopy(x, from, s, 0, len);
        return s;
    }
}
