package io.sidewinder.ssm.kernels;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.kernels.ScanProblem.Options;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * This JVM's backend ({@link Kernels#get()}) against the scalar reference over odd sizes, and the multi-threaded
 * tiling against one thread (bit-identical). Forward and backward, with resets, h0, gap, gate on and off, every
 * discretization; lengths straddle the chunk (256).
 */
class BatchScanBackendsTest {
    static final int CHUNK = 256;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> s = Stream.builder();
        int[] channels = {1, 3, 8, 13, 17, 64, 65};
        int[] lengths = {1, 7, 255, 256, 257};
        int[] states = {16, 1, 5, 16, 17};
        int i = 0;
        for (int dd : channels) {
            for (int len : lengths) {
                Discretization disc = Discretization.values()[i % 3];
                Options o = i % 2 == 0 ? Options.ALL : new Options(false, true, false, true, true, true, i % 4 == 1);
                s.add(Arguments.of(disc, 1 + i % 3, len, dd, states[i % states.length], o, i));
                i++;
            }
        }
        return s.build();
    }

    @ParameterizedTest(name = "{0} batch={1} L={2} D={3} N={4} {5}")
    @MethodSource("cases")
    void backendAgreesWithTheScalarReference(Discretization disc, int batch, int len, int dd, int n, Options o,
                                             long seed) {
        assumeOtherThanScalar();
        ScanProblem p = new ScanProblem(batch, len, dd, n, disc, o, seed);
        ScanGradients ref = ScanGradients.zerosFor(p.batch()), got = ScanGradients.zerosFor(p.batch());
        float[][] r = p.run(ScalarKernels.INSTANCE, CHUNK, ref);
        SsmKernels k = Kernels.get();
        float[][] g = p.run(k, CHUNK, got);
        String w = k.name() + " ";
        assertClose(toDouble(r[0]), g[0], 3e-4, 1e-5, w + "y");
        assertClose(toDouble(r[1]), g[1], 3e-4, 1e-5, w + "h");
        assertClose(toDouble(r[2]), g[2], 3e-4, 1e-5, w + "chunk states");
        // Gradients sum up to L·D terms: the tolerance scales with the typical magnitude of each array.
        compare(ref.du(), got.du(), w + "du");
        compare(ref.dDeltaRaw(), got.dDeltaRaw(), w + "dDeltaRaw");
        compare(ref.da(), got.da(), w + "da");
        compare(ref.db(), got.db(), w + "db");
        compare(ref.dc(), got.dc(), w + "dc");
        compare(ref.dh0(), got.dh0(), w + "dh0");
        compare(ref.dDeltaBias(), got.dDeltaBias(), w + "dDeltaBias");
        compare(ref.dd(), got.dd(), w + "dd");
        compare(ref.dz(), got.dz(), w + "dz");
    }

    @org.junit.jupiter.api.Test
    void aNegligibleOrUnderflowedAAgreesWithTheScalarReference() {
        assumeOtherThanScalar();
        for (Discretization disc : Discretization.values()) {
            ScanProblem p = new ScanProblem(2, 40, 5, 16, disc, Options.ALL, 17);
            p.a[0] = -1e-30f;
            p.a[16 + 1] = -(float) Math.exp(-95);
            p.a[32 + 2] = -(float) Math.exp(-104);
            ScanGradients ref = ScanGradients.zerosFor(p.batch()), got = ScanGradients.zerosFor(p.batch());
            float[][] r = p.run(ScalarKernels.INSTANCE, CHUNK, ref);
            float[][] g = p.run(Kernels.get(), CHUNK, got);
            assertClose(toDouble(r[0]), g[0], 3e-4, 1e-5, disc + " y");
            assertClose(toDouble(r[1]), g[1], 3e-4, 1e-5, disc + " h");
            compare(ref.du(), got.du(), disc + " du");
            compare(ref.dDeltaRaw(), got.dDeltaRaw(), disc + " dDeltaRaw");
            compare(ref.db(), got.db(), disc + " db");
            compare(ref.dh0(), got.dh0(), disc + " dh0");
        }
    }

    /** Without the Vector API this JVM's backend is the scalar one: comparing it with itself proves nothing. */
    static void assumeOtherThanScalar() {
        assumeTrue(Kernels.get() != ScalarKernels.INSTANCE,
                "this JVM's backend is the scalar reference itself: nothing to compare it with");
    }

    static void compare(float[] expected, float[] actual, String what) {
        if (expected == null) {
            assertArrayEquals((float[]) null, actual, what);
            return;
        }
        double rms = 0;
        for (float v : expected) rms += (double) v * v;
        rms = Math.sqrt(rms / Math.max(1, expected.length));
        assertClose(toDouble(expected), actual, 1e-3, 1e-4 * Math.max(rms, 1e-3), what);
    }

    /**
     * The scalar backend is bit-identical for every thread count (tiling and reduction order depend on the shape
     * only). The SIMD backend is checked within 1e-5: before C2 compiles it, the Vector API's EXP/EXPM1 fall back
     * to Java code whose last bit can differ from the compiled intrinsic, so which tier ran a tile shows.
     */
    @ParameterizedTest(name = "D={0}")
    @MethodSource("threadCases")
    void threadCountDoesNotChangeResults(int dd) {
        ScanProblem p = new ScanProblem(3, 300, dd, 16, Discretization.ZOH, Options.ALL, dd);
        for (SsmKernels backend : java.util.List.of(ScalarKernels.INSTANCE, Kernels.get()).stream().distinct().toList()) {
            boolean exact = backend == ScalarKernels.INSTANCE;
            ScanGradients one = ScanGradients.zerosFor(p.batch());
            float[][] r = p.run(new ParallelKernels(backend, 1), 64, one);
            for (int threads : new int[] {2, 3}) {
                ScanGradients many = ScanGradients.zerosFor(p.batch());
                float[][] g = p.run(new ParallelKernels(backend, threads), 64, many);
                String w = backend.name() + " " + threads + " threads ";
                same(r[0], g[0], exact, w + "y");
                same(r[1], g[1], exact, w + "h");
                same(r[2], g[2], exact, w + "chunk states");
                same(one.du(), many.du(), exact, w + "du");
                same(one.dDeltaRaw(), many.dDeltaRaw(), exact, w + "dDeltaRaw");
                same(one.da(), many.da(), exact, w + "da");
                same(one.db(), many.db(), exact, w + "db");
                same(one.dc(), many.dc(), exact, w + "dc");
                same(one.dd(), many.dd(), exact, w + "dd");
                same(one.dDeltaBias(), many.dDeltaBias(), exact, w + "dDeltaBias");
                same(one.dh0(), many.dh0(), exact, w + "dh0");
            }
        }
    }

    private static void same(float[] expected, float[] actual, boolean exact, String what) {
        if (exact) {
            assertArrayEquals(expected, actual, what);
        } else {
            double rms = 0;
            for (float v : expected) rms += (double) v * v;
            rms = Math.sqrt(rms / Math.max(1, expected.length));
            assertClose(toDouble(expected), actual, 1e-5, 1e-6 * Math.max(rms, 1e-3), what);
        }
    }

    static Stream<Integer> threadCases() {
        return Stream.of(5, 64, 200);
    }
}
