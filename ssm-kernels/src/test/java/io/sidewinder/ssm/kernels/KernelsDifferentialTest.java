package io.sidewinder.ssm.kernels;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.Discretization;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of the SIMD backend against the scalar reference over odd sizes (1, 4, 6, 8, 13, 16, 17, …),
 * in the style of Lucene's vectorization tests. Runs where the JVM has the Vector API; the surefire execution
 * without it proves the fallback instead.
 */
class KernelsDifferentialTest {
    static final int[] SIZES = {1, 2, 4, 6, 8, 13, 15, 16, 17, 31, 32, 33, 64, 100, 257};
    SsmKernels simd;
    final SsmKernels scalar = ScalarKernels.INSTANCE;

    @BeforeEach
    void simdAvailable() {
        simd = Kernels.simdOrNull();
        assumeTrue(simd != null && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "this JVM runs without --add-modules jdk.incubator.vector: SIMD kernels are not compared here");
    }

    static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return x;
    }

    @Test
    void matVecAgreesWithScalarOverOddShapesAndOffsets() {
        for (int rows : SIZES) {
            for (int cols : SIZES) {
                float[] w = random(rows * cols, rows * 31L + cols, 1), bias = random(rows, cols, 1);
                float[] x = random(cols + 3, rows, 1);
                float[] a = new float[rows + 2], b = new float[rows + 2];
                scalar.matVec(w, bias, rows, cols, x, 3, a, 2);
                simd.matVec(w, bias, rows, cols, x, 3, b, 2);
                assertClose(toDouble(a), b, 1e-5, 1e-5 * Math.sqrt(cols), rows + "x" + cols);
                scalar.matVec(w, null, rows, cols, x, 0, a, 0);
                simd.matVec(w, null, rows, cols, x, 0, b, 0);
                assertClose(toDouble(a), b, 1e-5, 1e-5 * Math.sqrt(cols), rows + "x" + cols + " no bias");
            }
        }
    }

    @Test
    void transposedMatVecEqualsMatVecOverOddShapes() {
        for (int rows : SIZES) {
            for (int cols : SIZES) {
                float[] w = random(rows * cols, rows * 17L + cols, 1), bias = random(rows, cols, 1);
                float[] wT = new float[w.length];
                for (int r = 0; r < rows; r++) for (int k = 0; k < cols; k++) wT[k * rows + r] = w[r * cols + k];
                float[] x = random(cols + 3, rows, 1);
                float[] expected = new float[rows + 2], viaScalar = new float[rows + 2], viaSimd = new float[rows + 2];
                scalar.matVec(w, bias, rows, cols, x, 3, expected, 2);
                scalar.matVecTransposed(wT, bias, rows, cols, x, 3, viaScalar, 2);
                simd.matVecTransposed(wT, bias, rows, cols, x, 3, viaSimd, 2);
                double tol = 1e-5 * Math.sqrt(cols);
                assertClose(toDouble(expected), viaScalar, 1e-5, tol, rows + "x" + cols + " scalar");
                assertClose(toDouble(expected), viaSimd, 1e-5, tol, rows + "x" + cols + " simd");
                scalar.matVecTransposed(wT, null, rows, cols, x, 3, viaScalar, 2);
                simd.matVecTransposed(wT, null, rows, cols, x, 3, viaSimd, 2);
                assertClose(toDouble(viaScalar), viaSimd, 1e-5, tol, rows + "x" + cols + " simd, no bias");
            }
        }
    }

    @ParameterizedTest(name = "len={0}")
    @ValueSource(ints = {1, 3, 16, 17, 64, 100})
    void elementwiseFunctionsAgreeWithScalar(int len) {
        float[] x = random(len + 1, len, 30);
        float[] a = x.clone(), b = x.clone();
        scalar.siluInPlace(a, 1, len);
        simd.siluInPlace(b, 1, len);
        assertClose(toDouble(a), b, 2e-6, 1e-7, "silu");
        a = x.clone();
        b = x.clone();
        scalar.softplusInPlace(a, 1, len, 2.5f);
        simd.softplusInPlace(b, 1, len, 2.5f);
        assertClose(toDouble(a), b, 2e-6, 1e-12, "softplus");
        a = x.clone();
        b = x.clone();
        scalar.expInPlace(a, 1, len);
        simd.expInPlace(b, 1, len);
        assertClose(toDouble(a), b, 2e-6, 1e-30, "exp");
        assertEquals(x[0], b[0], "exp leaves what lies before off");
        assertEquals((float) Math.exp(x[len]), a[len], "the scalar exp is Math.exp rounded to float");
    }

    @Test
    void aNegligibleOrUnderflowedAIsDeltaTimesBNotInfinityOrNaN() {
        int n = 16, channels = 3;
        float[] delta = {0.05f, 0.5f, 2f}, u = {1f, -2f, 0.5f}, bc = random(2 * n, 9, 1);
        float[] a = random(channels * n, 10, 4);
        for (int i = 0; i < a.length; i++) a[i] = -Math.abs(a[i]) - 0.1f;
        a[0] = -1e-30f;                            // A_log ≈ −69
        a[n + 1] = -(float) Math.exp(-95);          // A_log = −95: 1/a is infinite in fp32
        a[2 * n + 2] = -(float) Math.exp(-104);     // A_log = −104: a underflows to −0
        for (Discretization disc : Discretization.values()) {
            float[] h1 = new float[channels * n], h2 = h1.clone(), y1 = new float[channels], y2 = new float[channels];
            for (int step = 0; step < 5; step++) {
                scalar.scanStep(channels, n, delta, u, a, bc, 0, bc, n, disc, h1, y1);
                simd.scanStep(channels, n, delta, u, a, bc, 0, bc, n, disc, h2, y2);
            }
            assertClose(toDouble(h1), h2, 1e-5, 1e-6, disc + " state");
            assertClose(toDouble(y1), y2, 1e-5, 1e-5, disc + " output");
            // By hand, so that both backends being wrong the same way fails too: where A is negligible dA = 1 and
            // dB = Δ·B to fp32 precision in every discretisation, so five steps from h = 0 leave h = 5·Δ·B·u.
            int[][] tiny = {{0, 0}, {1, 1}, {2, 2}}; // (channel, state index) of the three tiny A entries
            for (int[] e : tiny) {
                int ch = e[0], j = e[1], at = ch * n + j;
                double expected = 5.0 * delta[ch] * bc[j] * u[ch];
                double tol = 1e-5 * Math.abs(expected) + 1e-7;
                assertEquals(expected, h1[at], tol, disc + " scalar h at channel " + ch + ", state " + j);
                assertEquals(expected, h2[at], tol, disc + " simd h at channel " + ch + ", state " + j);
            }
        }
    }

    @Test
    void scanStepAgreesWithScalarForEveryDiscretizationAndStateSize() {
        for (Discretization disc : Discretization.values()) {
            for (int n : new int[] {1, 4, 8, 13, 16, 17, 33}) {
                for (int channels : new int[] {1, 7, 64}) {
                    float[] delta = random(channels, n, 1), a = random(channels * n, n + 1, 8);
                    for (int i = 0; i < delta.length; i++) delta[i] = Math.abs(delta[i]) * 0.2f + 1e-4f;
                    for (int i = 0; i < a.length; i++) a[i] = -Math.abs(a[i]) - 0.1f;
                    float[] u = random(channels, 3, 2), bc = random(2 * n + 5, 4, 1);
                    float[] h1 = random(channels * n, 5, 1), h2 = h1.clone();
                    float[] y1 = new float[channels], y2 = new float[channels];
                    for (int step = 0; step < 20; step++) {
                        scalar.scanStep(channels, n, delta, u, a, bc, 5, bc, 5 + n, disc, h1, y1);
                        simd.scanStep(channels, n, delta, u, a, bc, 5, bc, 5 + n, disc, h2, y2);
                    }
                    String what = disc + " n=" + n + " channels=" + channels;
                    assertClose(toDouble(h1), h2, 1e-5, 1e-6, what + " state");
                    assertClose(toDouble(y1), y2, 1e-5, 1e-5, what + " output");
                }
            }
        }
    }

    @Test
    void theBackendCanBeForcedAndAnUnknownOneIsRefused() {
        assertSame(ScalarKernels.INSTANCE, Kernels.select("scalar"));
        assertEquals(simd.name(), Kernels.select("simd").name());
        assertThrows(IllegalArgumentException.class, () -> Kernels.select("gpu"));
    }
}
