package io.sidewinder.ssm.kernels;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SsmKernels#gemm} on every CPU backend against a double-precision product, over odd shapes (edges of
 * the SIMD micro-tile and of the k block), all four transpose combinations, with and without bias and
 * accumulation.
 */
class GemmTest {
    static final int[] MS = {1, 2, 5, 6, 7, 13, 31, 64};
    static final int[] NS = {1, 3, 15, 16, 17, 32, 33, 47, 129};
    static final int[] KS = {0, 1, 2, 7, 16, 33, 255, 256, 257, 600};

    static List<SsmKernels> backends() {
        // Each backend once: without the Vector API this JVM's backend is the scalar one, with it the SIMD one.
        // Every backend is checked against the double oracle, so the scalar fallback run still tests something.
        List<SsmKernels> all = new ArrayList<>(List.of(ScalarKernels.INSTANCE, Kernels.get()));
        SsmKernels simd = Kernels.simdOrNull();
        if (simd != null && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) all.add(simd);
        return all.stream().distinct().toList();
    }

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** The double-precision oracle, written from the contract's index formulas. */
    static double[] oracle(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                           float[] c0, boolean accumulate) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = accumulate ? c0[i * n + j] : 0;
                if (bias != null) s += bias[j];
                for (int p = 0; p < k; p++) {
                    s += (double) (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    @Test
    void everyBackendMatchesTheDoubleProductOverOddShapesAndTransposes() {
        SplittableRandom r = new SplittableRandom(7);
        for (SsmKernels kernels : backends()) {
            for (int m : MS) {
                for (int n : NS) {
                    for (int k : KS) {
                        int variant = (m + n + k) % 4; // cycles through the transposes without a 4× longer test
                        boolean transA = (variant & 1) != 0, transB = (variant & 2) != 0;
                        boolean withBias = (m + k) % 2 == 0, accumulate = (n + k) % 3 == 0;
                        check(kernels, r, transA, transB, m, n, k, withBias, accumulate);
                    }
                }
            }
        }
    }

    @Test
    void allFourTransposesOnTheModelsShapes() {
        SplittableRandom r = new SplittableRandom(11);
        int[][] shapes = {{100, 128, 32}, {100, 36, 64}, {100, 64, 2}, {100, 32, 64}, {32, 64, 100}};
        for (SsmKernels kernels : backends()) {
            for (int[] s : shapes) {
                for (int variant = 0; variant < 4; variant++) {
                    check(kernels, r, (variant & 1) != 0, (variant & 2) != 0, s[0], s[1], s[2], variant == 1,
                            variant == 2);
                }
            }
        }
    }

    private static void check(SsmKernels kernels, SplittableRandom r, boolean transA, boolean transB, int m, int n,
                              int k, boolean withBias, boolean accumulate) {
        float[] a = random(r, m * k), b = random(r, k * n), bias = withBias ? random(r, n) : null;
        float[] c = random(r, m * n);
        double[] expected = oracle(transA, transB, m, n, k, a, b, bias, c, accumulate);
        kernels.gemm(transA, transB, m, n, k, a, b, bias, c, accumulate);
        // fp32 sums of k products of values in [-1, 1]: the error grows like sqrt(k) ulps of the partial sums.
        assertClose(expected, c, 3e-4, 1e-5 * Math.sqrt(k + 1), kernels.name() + " " + m + "x" + n + "x" + k
                + " transA=" + transA + " transB=" + transB + " bias=" + withBias + " acc=" + accumulate);
    }

    @Test
    void shortArraysAreRefused() {
        for (SsmKernels kernels : backends()) {
            assertThrows(IllegalArgumentException.class,
                    () -> kernels.gemm(false, false, 3, 3, 3, new float[8], new float[9], null, new float[9], false));
        }
    }
}
