package io.sidewinder.bench;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.trainer.grad.Fp32Backprop;
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

/** Forward + backward of the default model over a batch of windows through the kernel façade (Fp32Backprop). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainStepBenchmark {
    @Param({"scalar", "simd"})
    public String backend;
    @Param({"8"})
    public int batch;
    @Param({"256"})
    public int length;

    Fp32Backprop model;
    float[] x, gaps, dHead;

    @Setup
    public void setUp() {
        ModelConfig cfg = ModelConfig.defaults(1);
        model = new Fp32Backprop(ModelParameters.initialise(cfg, 1),
                backend.equals("scalar") ? ScalarKernels.INSTANCE : Kernels.simdOrNull());
        SplittableRandom r = new SplittableRandom(1);
        x = new float[batch * length];
        gaps = new float[batch * length];
        dHead = new float[batch * length * cfg.headWidth()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < dHead.length; i++) dHead[i] = (float) (r.nextDouble() * 2 - 1);
        java.util.Arrays.fill(gaps, 1f);
    }

    @Benchmark
    public Object forwardBackward() {
        Fp32Backprop.Tape tape = model.forward(x, gaps, batch, length);
        model.backward(tape, dHead);
        return tape;
    }
}
