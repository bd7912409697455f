package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.Discretization;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * CUDA scan vs the double-precision {@link ScanReference}: forward (y, final state, chunk states) within
 * rtol 6e-4 / atol 2e-3 (Mamba's fp32 test tolerances), backward gradients within Mamba's gradient tolerances,
 * over lengths that cross chunk and tile boundaries, channel counts that are not a multiple of a block, h0 ≠ 0,
 * resets and every discretization. Skipped, with the reason, on machines without a usable GPU.
 */
class CudaScanParityTest {
    static final double OUT_RTOL = 6e-4, OUT_ATOL = 2e-3;
    private static CudaSelectiveScan scan;

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "CUDA tests skipped: " + Cuda.unavailableReason());
        if (scan == null) scan = new CudaSelectiveScan(Cuda.runtime().orElseThrow());
    }

    @ParameterizedTest(name = "{0} L={1} D={2} N={3} chunk={4} gate={5} resets={6} family={7} (0 = L-split, 5 = sequential 4/thread, 6 = sequential 2/thread, -1 = auto)")
    @CsvSource({
            "ZOH, 333, 70, 16, 64, true, true, 6",
            "EULER, 1030, 64, 16, 256, true, false, 6",
            "ZOH, 1, 5, 16, 64, true, false, 0",
            "ZOH, 33, 40, 16, 16, true, true, 0",
            "ZOH, 300, 40, 16, 64, true, true, 0",
            "EULER, 1000, 70, 16, 128, true, false, 0",
            "EULER, 257, 33, 8, 32, false, true, 0",
            "BILINEAR, 200, 20, 32, 48, true, true, 0",
            "ZOH, 2100, 64, 16, 512, true, true, 0",
            "ZOH, 2100, 24, 16, 1024, true, false, 0",
            "ZOH, 777, 72, 32, 256, false, true, 0",
            "EULER, 513, 64, 16, 256, true, true, 0",
            "ZOH, 1, 5, 16, 64, true, false, 5",
            "ZOH, 33, 40, 16, 16, true, true, 5",
            "ZOH, 300, 40, 16, 64, true, true, 5",
            "EULER, 1000, 70, 16, 128, true, false, 5",
            "EULER, 257, 33, 8, 32, false, true, 5",
            "BILINEAR, 200, 20, 32, 48, true, true, 5",
            "ZOH, 2100, 64, 16, 512, true, true, 5",
            "ZOH, 777, 72, 32, 256, false, true, 5",
            "ZOH, 515, 136, 8, 100, true, true, 5",
            "EULER, 513, 64, 16, 256, true, true, 5",
            "ZOH, 1, 5, 16, 64, true, false, 6",
            "ZOH, 33, 40, 16, 16, true, true, 6",
            "ZOH, 300, 40, 16, 64, true, true, 6",
            "EULER, 1000, 70, 16, 128, true, false, 6",
            "BILINEAR, 200, 20, 16, 48, true, true, 6",
            "ZOH, 2100, 64, 16, 512, true, true, 6",
            "ZOH, 515, 136, 16, 100, false, true, 6",
            "EULER, 513, 24, 16, 256, true, true, 6",
            "ZOH, 600, 48, 16, 256, true, true, -1",
            "EULER, 700, 40, 16, 128, true, true, -1",
    })
    void forwardAndBackwardMatchTheReference(Discretization disc, int len, int channels, int n, int chunk,
                                             boolean gate, boolean resets, int family) {
        check(new CudaSelectiveScan(Cuda.runtime().orElseThrow(), family), disc, len, channels, n, chunk,
                gate, resets);
    }

    private static void check(CudaSelectiveScan scan, Discretization disc, int len, int channels, int n, int chunk,
                              boolean gate, boolean resets) {
        int batch = 2;
        ScanBatch in = ScanProblems.random(batch, len, channels, n, disc, gate, resets, len * 31L + channels);
        SplittableRandom r = new SplittableRandom(len);
        float[] h0 = ScanProblems.uniform(r, batch * channels * n, 1f);
        float[] dout = ScanProblems.uniform(r, batch * len * channels, 1f);
        int chunks = (len + chunk - 1) / chunk;

        float[] h = h0.clone(), y = new float[batch * len * channels], states = new float[batch * chunks * channels * n];
        Arrays.fill(y, Float.NaN);
        scan.forward(in, h, y, states, chunk);
        ScanReference.Forward ref = ScanReference.forward(in, ScanProblems.toDouble(h0), chunk);
        assertClose(ref.y(), y, OUT_RTOL, OUT_ATOL, "y");
        assertClose(ref.hFinal(), h, OUT_RTOL, OUT_ATOL, "final state");
        assertClose(ref.chunkStates(), states, OUT_RTOL, OUT_ATOL, "chunk states");

        ScanReference.Gradients g = ScanReference.backward(in, ScanProblems.toDouble(h0), ScanProblems.toDouble(dout));
        for (boolean deterministic : new boolean[] {true, false}) {
            ScanGradients out = zeros(in);
            scan.backward(in, h0, states, chunk, dout, out, deterministic);
            String mode = deterministic ? " (deterministic)" : " (atomics)";
            assertClose(g.du(), out.du(), 2 * OUT_RTOL, 2 * OUT_ATOL, "du" + mode);
            assertCloseDeltaRaw(g.dDeltaRaw(), out.dDeltaRaw(), "dDeltaRaw" + mode);
            if (gate) assertClose(g.dz(), out.dz(), 2 * OUT_RTOL, 2 * OUT_ATOL, "dz" + mode);
            assertCloseScaled(g.db(), out.db(), "dB" + mode);
            assertCloseScaled(g.dc(), out.dc(), "dC" + mode);
            assertCloseScaled(g.da(), out.da(), "dA" + mode);
            assertCloseScaled(g.dd(), out.dd(), "dD" + mode);
            assertCloseScaled(g.dDeltaBias(), out.dDeltaBias(), "dDeltaBias" + mode);
            assertClose(g.dh0(), out.dh0(), 2 * OUT_RTOL, 2 * OUT_ATOL, "dh0" + mode);
        }
    }

    @Test
    void deterministicBackwardIsBitwiseRepeatable() {
        ScanBatch in = ScanProblems.random(2, 700, 96, 16, Discretization.ZOH, true, true, 5);
        float[] h0 = ScanProblems.uniform(new SplittableRandom(1), 2 * 96 * 16, 1f);
        float[] dout = ScanProblems.uniform(new SplittableRandom(2), 2 * 700 * 96, 1f);
        ScanGradients first = zeros(in), second = zeros(in);
        scan.backward(in, h0, null, 0, dout, first, true);
        scan.backward(in, h0, null, 0, dout, second, true);
        if (!Arrays.equals(first.db(), second.db()) || !Arrays.equals(first.da(), second.da())
                || !Arrays.equals(first.dDeltaBias(), second.dDeltaBias())) {
            fail("deterministic reductions differ between two identical runs");
        }
    }

    static ScanGradients zeros(ScanBatch in) {
        return ScanGradients.zerosFor(in);
    }

    /**
     * dΔ_raw: a sum over the states, so looser than the outputs (5× rtol, 10× atol), but never looser than 1 % of the
     * tensor's largest value: at small Δ (∂Δ/∂raw = sigmoid·gap ≈ 1e-3) a fixed 0.02 would pass a kernel returning 0.
     */
    static void assertCloseDeltaRaw(double[] expected, float[] actual, String what) {
        double max = 0;
        for (double e : expected) max = Math.max(max, Math.abs(e));
        assertClose(expected, actual, 5 * OUT_RTOL, Math.min(10 * OUT_ATOL, 1e-2 * Math.max(max, 1e-6)), what);
    }

    /** Sums over batch, time or channels: rtol 1e-3 with atol 1e-3 of the largest magnitude in the tensor. */
    static void assertCloseScaled(double[] expected, float[] actual, String what) {
        double max = 0;
        for (double e : expected) max = Math.max(max, Math.abs(e));
        assertClose(expected, actual, 1e-3, 1e-3 * Math.max(max, 1e-6), what);
    }

    static void assertClose(double[] expected, float[] actual, double rtol, double atol, String what) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + " != " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0, maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Double.isFinite(expected[i])) fail(what + ": non-finite expected " + expected[i] + " at " + i);
            if (!Float.isFinite(actual[i])) fail(what + ": non-finite " + actual[i] + " at " + i);
            double err = Math.abs(actual[i] - expected[i]);
            maxErr = Math.max(maxErr, err);
            double excess = err - (atol + rtol * Math.abs(expected[i]));
            // NaN-safe: a NaN excess counts as a violation.
            if (!(excess <= worstExcess)) {
                worstExcess = excess;
                worst = i;
            }
        }
        System.out.printf("  %-28s max |err| %.3e over %d values%n", what, maxErr, expected.length);
        if (worst >= 0) {
            fail(String.format("%s: element %d is %.9g, expected %.9g (rtol %.1e, atol %.1e)", what, worst,
                    actual[worst], expected[worst], rtol, atol));
        }
    }
}
