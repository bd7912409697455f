package io.sidewinder.bench;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.ssm.StreamState;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import java.util.Locale;
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
 * The stream processors' whole per-reading path, {@link Forecaster#advance}: gap, normaliser, every member's model
 * step, lag readout, seasonal cycle and the prediction in sensor units — on a model shaped like the ETTh1 ones
 * {@code train} writes (7 channels, horizon 96, 96 readout lags, a 24-phase cycle per channel). {@code form} is the
 * readout form and member count, e.g. {@code mixed-2} for {@code train --members 2 --readout-form mixed}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ForecasterBenchmark {
    private static final long HOUR_MS = 3_600_000L;

    @Param({"scalar", "simd"})
    public String backend;
    @Param({"normalised-1", "residual-1", "last-value-1", "normalised-2", "mixed-2"})
    public String form;

    Forecaster forecaster;
    StreamState state;
    float[] reading;
    long eventTime;

    @Setup
    public void setUp() {
        SsmKernels k = backend.equals("scalar") ? ScalarKernels.INSTANCE : Kernels.simdOrNull();
        int dash = form.lastIndexOf('-');   // "<readout form, as the CLI spells it>-<members>"
        ReadoutForm readout = ReadoutForm.valueOf(form.substring(0, dash).replace('-', '_').toUpperCase(Locale.ROOT));
        ModelConfig cfg = ModelConfig.defaults(7).withShape(32, 2, 16, 96).withReadoutLags(96).withCycle(24, 7)
                .withMembers(Integer.parseInt(form.substring(dash + 1))).withReadoutForm(readout);
        forecaster = new Forecaster(new MambaModel(ModelParameters.initialise(cfg, 1), k));
        state = StreamState.fresh(cfg);
        SplittableRandom r = new SplittableRandom(7);
        reading = new float[cfg.channels()];
        for (int i = 0; i < reading.length; i++) reading[i] = (float) r.nextGaussian();
        // a full lag history and a settled normaliser, as a key has after its first days
        for (int i = 0; i < 200; i++) advance();
    }

    @Benchmark
    public Forecaster.Prediction advance() {
        eventTime += HOUR_MS;
        return forecaster.advance(state, eventTime, reading);
    }
}
