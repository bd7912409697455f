package io.sidewinder.bench;

import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelState;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
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

/** One streaming step of the default model (ModelConfig.defaults(1)): one reading of one key. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class StepBenchmark {
    @Param({"scalar", "simd"})
    public String backend;
    /** Members of an ensemble ({@code train --members}); 1 is a single model. */
    @Param({"1"})
    public int members;

    MambaModel model;
    ModelState state;
    float[] head, reading = {0.3f};

    @Setup
    public void setUp() {
        SsmKernels k = backend.equals("scalar") ? ScalarKernels.INSTANCE : Kernels.simdOrNull();
        ModelConfig cfg = ModelConfig.defaults(1).withMembers(members);
        model = new MambaModel(ModelParameters.initialise(cfg, 1), k);
        state = ModelState.zeros(cfg);
        head = new float[cfg.headWidth()];
    }

    @Benchmark
    public float[] step() {
        model.step(reading, 1f, state, head);
        return head;
    }
}
