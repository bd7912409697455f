package io.sidewinder.bench;

import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * SsmKernels.gemm as a linear layer uses it (C = A·Bᵀ, B [n][k]), per backend. GFLOP/s = 2·m·n·k / score(ns).
 * Defaults: a square 512³ product and the default model's in_proj over a 1,024-step sequence.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {
    @Param({"scalar", "simd"})
    public String backend;
    @Param({"512x512x512", "1024x128x32"})
    public String shape;

    SsmKernels kernels;
    int m, n, k;
    float[] a, b, c;

    @Setup
    public void setUp() {
        kernels = backend.equals("scalar") ? ScalarKernels.INSTANCE : Kernels.simdOrNull();
        String[] mnk = shape.split("x");
        m = Integer.parseInt(mnk[0]);
        n = Integer.parseInt(mnk[1]);
        k = Integer.parseInt(mnk[2]);
        SplittableRandom r = new SplittableRandom(1);
        a = new float[m * k];
        b = new float[n * k];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble();
    }

    @Benchmark
    public float[] gemm() {
        kernels.gemm(false, true, m, n, k, a, b, null, c, false);
        return c;
    }
}
