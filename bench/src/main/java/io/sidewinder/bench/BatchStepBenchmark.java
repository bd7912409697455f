package io.sidewinder.bench;

import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelState;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
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

/** MambaModel.stepBatch: one reading for each of {@code keys} keys of the default model. Score / keys = ns per key. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class BatchStepBenchmark {
    @Param({"scalar", "simd"})
    public String backend;
    /** Members of an ensemble ({@code train --members}); 1 is a single model. */
    @Param({"1"})
    public int members;
    @Param({"1000"})
    public int keys;

    MambaModel model;
    ModelState[] states;
    float[] x, gaps, heads;

    @Setup
    public void setUp() {
        ModelConfig cfg = ModelConfig.defaults(1).withMembers(members);
        model = new MambaModel(ModelParameters.initialise(cfg, 1),
                backend.equals("scalar") ? ScalarKernels.INSTANCE : Kernels.simdOrNull());
        states = new ModelState[keys];
        for (int i = 0; i < keys; i++) states[i] = ModelState.zeros(cfg);
        SplittableRandom r = new SplittableRandom(1);
        x = new float[keys];
        for (int i = 0; i < keys; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        gaps = new float[keys];
        java.util.Arrays.fill(gaps, 1f);
        heads = new float[keys * cfg.headWidth()];
    }

    @Benchmark
    public float[] stepBatch() {
        model.stepBatch(keys, x, gaps, states, heads);
        return heads;
    }
}
