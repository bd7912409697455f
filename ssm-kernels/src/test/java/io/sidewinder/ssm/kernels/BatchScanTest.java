package io.sidewinder.ssm.kernels;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.SelectiveScan;
import io.sidewinder.ssm.kernels.ScanProblem.Options;
import io.sidewinder.ssm.oracle.DoubleOracle;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched scan contract ({@link ScanBatch}, {@link SsmKernels#scanForward}/{@link SsmKernels#scanBackward})
 * on the scalar reference and on this JVM's backend ({@link Kernels#get()}: SIMD with the Vector API, scalar in
 * the fallback run): forward against the double oracle and {@link SelectiveScan#sequential}, backward against
 * central finite differences of the double oracle.
 */
class BatchScanTest {
    static final double RTOL = 3e-4, ATOL = 1e-5;

    static List<SsmKernels> backends() {
        return List.of(ScalarKernels.INSTANCE, Kernels.get());
    }

    static Stream<Arguments> forwardCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        int seed = 0;
        for (Discretization disc : Discretization.values()) {
            for (int[] shape : new int[][] {{1, 1, 1, 1}, {2, 7, 3, 5}, {3, 33, 13, 16}, {1, 65, 17, 4}, {2, 20, 64, 16}}) {
                s.add(Arguments.of(disc, shape[0], shape[1], shape[2], shape[3], Options.ALL, seed++));
                s.add(Arguments.of(disc, shape[0], shape[1], shape[2], shape[3], Options.NONE, seed++));
            }
        }
        return s.build();
    }

    @ParameterizedTest(name = "{0} batch={1} L={2} D={3} N={4} {5}")
    @MethodSource("forwardCases")
    void forwardMatchesTheDoubleOracle(Discretization disc, int batch, int len, int dd, int n, Options o, long seed) {
        ScanProblem p = new ScanProblem(batch, len, dd, n, disc, o, seed);
        double[] hRef = new double[p.h0.length];
        double[] yRef = p.oracle(hRef);
        for (SsmKernels k : backends()) {
            float[][] out = p.run(k, 8, null);
            assertClose(yRef, out[0], RTOL, ATOL, k.name() + " y");
            assertClose(hRef, out[1], RTOL, ATOL, k.name() + " final state");
        }
    }

    @Test
    void forwardEqualsSelectiveScanPerSequenceAndStoresTheStateEnteringEachChunk() {
        int chunk = 16;
        ScanProblem p = new ScanProblem(3, 70, 5, 6, Discretization.ZOH, Options.ALL, 42);
        ScanBatch in = p.batch();
        float[][] out = p.run(ScalarKernels.INSTANCE, chunk, null);
        int dd = p.dd, n = p.n, len = p.len, chunks = in.chunks(chunk);
        for (int s = 0; s < p.batch; s++) {
            float[] delta = new float[len * dd];
            for (int t = 0; t < len; t++) for (int d = 0; d < dd; d++) delta[t * dd + d] = in.delta(s, t, d);
            for (int k = 0; k <= chunks; k++) {
                int steps = k == chunks ? len : k * chunk; // the prefix before chunk k; k == chunks: the whole
                float[] h = slice(p.h0, s, dd * n), y = new float[len * dd];
                SelectiveScan.sequential(new SelectiveScan.Inputs(steps, dd, n, slice(p.u, s, len * dd), delta, p.a,
                        slice(p.b, s, len * n), slice(p.c, s, len * n), p.d, slice(p.z, s, len * dd),
                        java.util.Arrays.copyOfRange(p.resets, s * len, (s + 1) * len), p.disc), h, y);
                if (k < chunks) {
                    assertClose(toDouble(h), slice(out[2], s * chunks + k, dd * n), 1e-6, 1e-7,
                            "sequence " + s + " state entering chunk " + k);
                } else {
                    assertClose(toDouble(y), slice(out[0], s, len * dd), 1e-6, 1e-7, "sequence " + s + " y");
                    assertClose(toDouble(h), slice(out[1], s, dd * n), 1e-6, 1e-7, "sequence " + s + " h");
                }
            }
        }
    }

    static Stream<Arguments> gradientCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (Discretization disc : Discretization.values()) {
            s.add(Arguments.of(disc, Options.ALL));
            s.add(Arguments.of(disc, Options.NONE));
            s.add(Arguments.of(disc, new Options(true, false, true, false, true, false, true)));
        }
        return s.build();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("gradientCases")
    void backwardMatchesCentralDifferencesOfTheDoubleOracle(Discretization disc, Options o) {
        ScanProblem p = new ScanProblem(2, 11, 3, 4, disc, o, 7 + disc.ordinal());
        for (SsmKernels k : backends()) {
            ScanGradients g = ScanGradients.zerosFor(p.batch());
            p.run(k, 4, g);
            String w = k.name() + " " + disc + " ";
            checkGradient(p, p.u, g.du(), w + "du");
            checkGradient(p, p.deltaRaw, g.dDeltaRaw(), w + "dDeltaRaw");
            checkGradient(p, p.a, g.da(), w + "da");
            checkGradient(p, p.b, g.db(), w + "db");
            checkGradient(p, p.c, g.dc(), w + "dc");
            checkGradient(p, p.h0, g.dh0(), w + "dh0");
            if (o.bias()) checkGradient(p, p.deltaBias, g.dDeltaBias(), w + "dDeltaBias");
            if (o.skip()) checkGradient(p, p.d, g.dd(), w + "dd");
            if (o.gate()) checkGradient(p, p.z, g.dz(), w + "dz");
        }
    }

    /** Central differences of loss = Σ dy·y of the double oracle with respect to every element of input x. */
    static void checkGradient(ScanProblem p, float[] x, float[] analytic, String what) {
        double[] fd = new double[x.length];
        double scale = 0;
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            double step = 1e-5 * Math.max(1, Math.abs(saved));
            // Perturb in double: the oracle reads the float arrays, so evaluate with a double-valued override.
            double plus = loss(p, x, i, saved + step), minus = loss(p, x, i, saved - step);
            fd[i] = (plus - minus) / (2 * step);
            scale = Math.max(scale, Math.abs(fd[i]));
        }
        assertClose(fd, analytic, 2e-3, 2e-4 * Math.max(1, scale), what);
    }

    private static double loss(ScanProblem p, float[] x, int index, double value) {
        Function<float[], double[]> conv = arr -> {
            if (arr == null) return null;
            double[] dbl = toDouble(arr);
            if (arr == x) dbl[index] = value;
            return dbl;
        };
        double[] h = conv.apply(p.h0);
        double[] y = DoubleOracle.scanBatch(p.batch, p.len, p.dd, p.n, conv.apply(p.u), conv.apply(p.deltaRaw),
                conv.apply(p.deltaBias), p.softplus, conv.apply(p.gap), conv.apply(p.a), conv.apply(p.b),
                conv.apply(p.c), conv.apply(p.d), conv.apply(p.z), p.resets, p.disc, h);
        double l = 0;
        for (int i = 0; i < y.length; i++) l += y[i] * p.dy[i];
        return l;
    }

    @Test
    void malformedShapesAreRefused() {
        ScanProblem p = new ScanProblem(2, 5, 3, 4, Discretization.ZOH, Options.ALL, 1);
        assertThrows(IllegalArgumentException.class, () -> new ScanBatch(2, 5, 3, 4, p.u, p.deltaRaw, p.deltaBias,
                true, p.gap, p.a, p.b, java.util.Arrays.copyOf(p.c, 3), p.d, p.z, p.resets, p.disc));
        ScanBatch in = p.batch();
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.get().scanForward(in, new float[7], new float[2 * 5 * 3], null, 4));
        ScanGradients noGate = new ScanGradients(new float[30], new float[30], new float[3], new float[12],
                new float[40], new float[40], new float[3], null, new float[24]);
        assertThrows(IllegalArgumentException.class, () -> noGate.checkShapes(in));
    }

    static float[] slice(float[] x, int index, int size) {
        return x == null ? null : java.util.Arrays.copyOfRange(x, index * size, (index + 1) * size);
    }
}
