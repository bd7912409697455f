package io.sidewinder.bench;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ParallelKernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
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
 * The batch selective scan (ZOH, softplus Δ, gate, D) forward and backward, per backend and thread count.
 * Divide the score by batch·length·channels·stateSize for ns per element. The Vector API flag is in
 * {@code jvmArgsAppend}: JMH's command-line -jvmArgsAppend would replace it, so do not pass one.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ScanBenchmark {
    @Param({"scalar", "simd"})
    public String backend;
    @Param({"1"})
    public int threads;
    @Param({"2"})
    public int batch;
    @Param({"1024"})
    public int length;
    @Param({"64"})
    public int channels;
    @Param({"16"})
    public int stateSize;

    static final int CHUNK = 256;
    SsmKernels kernels;
    ScanBatch in;
    float[] h, y, states, dy;
    ScanGradients grads;

    @Setup
    public void setUp() {
        SsmKernels base = backend.equals("scalar") ? ScalarKernels.INSTANCE : Kernels.simdOrNull();
        if (base == null) throw new IllegalStateException("the simd backend needs --add-modules jdk.incubator.vector");
        kernels = new ParallelKernels(base, threads);
        in = problem(new SplittableRandom(1), batch, length, channels, stateSize);
        h = new float[in.stateLength()];
        y = new float[batch * length * channels];
        states = new float[in.chunkStatesLength(CHUNK)];
        dy = random(new SplittableRandom(2), y.length);
        grads = ScanGradients.zerosFor(in);
        kernels.scanForward(in, h, y, states, CHUNK);
    }

    static ScanBatch problem(SplittableRandom r, int batch, int len, int dd, int n) {
        float[] a = new float[dd * n], bias = new float[dd];
        for (int i = 0; i < a.length; i++) a[i] = -(1 + i % n);
        java.util.Arrays.fill(bias, -3f);
        int bld = batch * len * dd, bln = batch * len * n;
        return new ScanBatch(batch, len, dd, n, random(r, bld), random(r, bld), bias, true, null, a, random(r, bln),
                random(r, bln), random(r, dd), random(r, bld), null, Discretization.ZOH);
    }

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    @Benchmark
    public float[] forward() {
        kernels.scanForward(in, h, y, states, CHUNK);
        return y;
    }

    @Benchmark
    public ScanGradients backward() {
        kernels.scanBackward(in, null, states, CHUNK, dy, grads);
        return grads;
    }
}
