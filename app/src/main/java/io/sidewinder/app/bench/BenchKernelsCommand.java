package io.sidewinder.app.bench;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelState;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ParallelKernels;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.trainer.grad.Fp32Backprop;
import io.sidewinder.trainer.grad.TrainableModel;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Scalar vs SIMD kernels measured in one run, single thread: one line per kernel,
 * {@code <kernel> scalar=<ns> simd=<ns> speedup=<r>}. Each figure is the best of several timed rounds after a
 * warm-up (the Vector API is slow until compiled).
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Scalar vs SIMD kernel timings (ns per call), measured in one run on this machine.")
public final class BenchKernelsCommand implements Callable<Integer> {

    private static final java.util.Set<String> SECTIONS = java.util.Set.of("ops", "scan", "gemm", "step", "train");

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Fewer rounds (for a smoke run).")
    boolean quick;

    @Option(names = "--only", split = ",", paramLabel = "SECTION",
            description = "Run only these sections: ops, scan, gemm, step, train (default: all).")
    java.util.Set<String> only;

    /** Picocli's writer (System.out unless a test sets another); lines are flushed as they are measured. */
    private java.io.PrintWriter out() {
        return spec.commandLine().getOut();
    }

    private boolean runs(String section) {
        return only == null || only.contains(section);
    }

    @Override
    public Integer call() {
        if (only != null && !SECTIONS.containsAll(only)) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "--only takes " + SECTIONS + ", got " + only);
        }
        SsmKernels simd = Kernels.simdOrNull();
        if (simd == null) {
            spec.commandLine().getErr().println(spec.qualifiedName()
                    + ": the SIMD backend needs --add-modules jdk.incubator.vector (./sidewinder passes it)");
            return 1;
        }
        SplittableRandom r = new SplittableRandom(1);
        if (runs("ops")) opLines(r, simd);
        if (runs("scan")) scanLines(r, simd);
        if (runs("gemm")) gemmLines(r, simd);
        if (runs("step")) stepLines(r, simd);
        if (runs("train")) trainLine(r, simd);
        out().flush();
        return 0;
    }

    /** The per-reading kernels, ns per call. */
    private void opLines(SplittableRandom r, SsmKernels simd) {
        int di = 64, dm = 32, n = 16;
        float[] w = random(r, 2 * di * dm), x = random(r, dm), y = new float[2 * di];
        line("matvec 128x32", k -> k.matVec(w, null, 2 * di, dm, x, 0, y, 0), simd);
        float[] delta = new float[di], u = random(r, di), a = new float[di * n], bc = random(r, 2 * n), h = new float[di * n];
        for (int i = 0; i < di; i++) delta[i] = 0.01f + 0.05f * (i % 7);
        for (int i = 0; i < a.length; i++) a[i] = -(1 + i % n);
        float[] ys = new float[di];
        line("scan-step d=64 n=16 zoh", k -> k.scanStep(di, n, delta, u, a, bc, 0, bc, n, Discretization.ZOH, h, ys), simd);
        float[] sv = random(r, di);
        line("silu 64", k -> k.siluInPlace(sv, 0, di), simd);
    }

    /**
     * One training step's gradient work: forward + backward of the default model over a batch of windows through
     * the façade (fp32, {@link Fp32Backprop}), scalar vs SIMD backend, in ms; and the double-precision trainer
     * ({@link TrainableModel}, one window at a time) on the same batch for reference.
     */
    private void trainLine(SplittableRandom r, SsmKernels simd) {
        ModelConfig cfg = ModelConfig.defaults(1);
        ModelParameters params = ModelParameters.initialise(cfg, 1);
        int batch = 8, len = quick ? 128 : 256, hw = cfg.headWidth();
        float[] x = random(r, batch * len), gaps = new float[batch * len], dHead = random(r, batch * len * hw);
        java.util.Arrays.fill(gaps, 1f);
        Fp32Backprop scalar = new Fp32Backprop(params, ScalarKernels.INSTANCE), vector = new Fp32Backprop(params, simd);
        double warm = quick ? 1 : 5;
        double sc = timeMillis(() -> scalar.backward(scalar.forward(x, gaps, batch, len), dHead), warm);
        double si = timeMillis(() -> vector.backward(vector.forward(x, gaps, batch, len), dHead), warm);
        TrainableModel exact = new TrainableModel(params);
        double[] xd = new double[len], gd = new double[len], dd = new double[len * hw];
        java.util.Arrays.fill(gd, 1);
        double dbl = timeMillis(() -> {
            for (int b = 0; b < batch; b++) exact.backward(exact.forward(xd, gd, len, null), xd, gd, dd, null, null, null);
        });
        out().printf(Locale.ROOT, "%-28s scalar=%.2f simd=%.2f speedup=%.2f (ms fwd+bwd, default model, batch %d x L %d;"
                + " double TrainableModel %.2f ms, %.1fx)%n", "train-step", sc, si, sc / si, batch, len, dbl, dbl / si);
    }

    /** The default model's streaming step: one key, 1,000 keys in turn, 1,000 keys in one batched step. */
    private void stepLines(SplittableRandom r, SsmKernels simd) {
        ModelConfig cfg = ModelConfig.defaults(1);
        ModelParameters params = ModelParameters.initialise(cfg, 1);
        MambaModel scalarModel = new MambaModel(params, ScalarKernels.INSTANCE), simdModel = new MambaModel(params, simd);
        ModelState s1 = ModelState.zeros(cfg), s2 = ModelState.zeros(cfg);
        float[] head = new float[cfg.headWidth()], in = {0.3f};
        double sc = time(() -> scalarModel.step(in, 1f, s1, head)), si = time(() -> simdModel.step(in, 1f, s2, head));
        out().printf(Locale.ROOT, "%-28s scalar=%.0f simd=%.0f speedup=%.2f%n", "model-step default(1ch)", sc, si, sc / si);
        // 1,000 keys, one reading each in turn: every step works on another key's state (9.8 KB), as a stream does.
        int keys = 1000;
        ModelState[] states = new ModelState[keys];
        for (int i = 0; i < keys; i++) states[i] = ModelState.zeros(cfg);
        double kc = timeMillis(() -> { for (ModelState s : states) scalarModel.step(in, 1f, s, head); }) * 1e6 / keys;
        double ks = timeMillis(() -> { for (ModelState s : states) simdModel.step(in, 1f, s, head); }) * 1e6 / keys;
        out().printf(Locale.ROOT, "%-28s scalar=%.0f simd=%.0f speedup=%.2f (ns/key)%n", "model-step 1000 keys", kc,
                ks, kc / ks);
        // The same 1,000 keys in one batched step: the projections become GEMMs over the keys.
        float[] xb = random(r, keys), gb = new float[keys], heads = new float[keys * cfg.headWidth()];
        java.util.Arrays.fill(gb, 1f);
        double warm = quick ? 1 : 3;
        double batchScalar = timeMillis(() -> scalarModel.stepBatch(keys, xb, gb, states, heads), warm) * 1e6 / keys;
        double batchSimd = timeMillis(() -> simdModel.stepBatch(keys, xb, gb, states, heads), warm) * 1e6 / keys;
        out().printf(Locale.ROOT, "%-28s scalar=%.0f simd=%.0f speedup=%.2f (ns/key; vs one-by-one simd %.2fx)%n",
                "model-step-batch 1000 keys", batchScalar, batchSimd, batchScalar / batchSimd, ks / batchSimd);
    }

    /** The batch scan, forward and backward, in ns per (sequence·step·channel·state) element; then 1 vs 2 threads. */
    private void scanLines(SplittableRandom r, SsmKernels simd) {
        int batch = 2, len = 1024, dd = 64, n = 16, chunk = 256;
        ScanBatch in = scanProblem(r, batch, len, dd, n);
        double elements = (double) batch * len * dd * n;
        float[] h = new float[in.stateLength()], y = new float[batch * len * dd], dy = random(r, y.length);
        float[] states = new float[in.chunkStatesLength(chunk)];
        ScanGradients g = ScanGradients.zerosFor(in);
        String shape = " b=" + batch + " L=" + len + " D=" + dd + " N=" + n;
        lineScaled("scan-fwd" + shape, k -> k.scanForward(in, h, y, states, chunk), simd, elements, "ns/elem");
        lineScaled("scan-bwd" + shape, k -> k.scanBackward(in, null, states, chunk, dy, g), simd, elements, "ns/elem");
        // Threads: a batch of 8 sequences × 256 channels gives 8 × 8 tiles to share.
        ScanBatch wide = scanProblem(r, 8, 512, 256, n);
        float[] hw = new float[wide.stateLength()], yw = new float[8 * 512 * 256];
        float[] sw = new float[wide.chunkStatesLength(chunk)];
        SsmKernels one = new ParallelKernels(simd, 1), two = new ParallelKernels(simd, 2);
        double t1 = timeMillis(() -> one.scanForward(wide, hw, yw, sw, chunk));
        double t2 = timeMillis(() -> two.scanForward(wide, hw, yw, sw, chunk));
        out().printf(Locale.ROOT, "%-28s threads1=%.3f threads2=%.3f speedup=%.2f%n",
                "scan-fwd simd b=8 L=512 D=256 N=16 ms", t1, t2, t1 / t2);
    }

    /**
     * GEMM in GFLOP/s (2·m·n·k per call) on a square problem and on the model's in_proj over a sequence, with the
     * share of one core's FMA peak: 2 FMA pipes × lanes × 2 FLOP × the clock /proc/cpuinfo reports (an
     * assumption: turbo clocks make the true peak higher, a lower AVX-512 licence clock lower).
     */
    private void gemmLines(SplittableRandom r, SsmKernels simd) {
        double peak = CorePeak.gflops();
        int[][] shapes = {{512, 512, 512}, {1024, 128, 32}, {1024, 32, 64}};
        String[] names = {"gemm 512x512x512", "gemm in_proj 1024x128x32", "gemm out_proj 1024x32x64"};
        for (int s = 0; s < shapes.length; s++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            float[] a = random(r, m * k), b = random(r, n * k), c = new float[m * n];
            double flop = 2.0 * m * n * k;
            double sc = flop / (timeMillis(() -> ScalarKernels.INSTANCE.gemm(false, true, m, n, k, a, b, null, c, false)) * 1e6);
            double si = flop / (timeMillis(() -> simd.gemm(false, true, m, n, k, a, b, null, c, false)) * 1e6);
            out().printf(Locale.ROOT, "%-28s scalar=%.2f simd=%.2f speedup=%.2f (GFLOP/s; simd %.0f%% of %s)%n",
                    names[s], sc, si, si / sc, 100 * si / peak, CorePeak.describe());
        }
    }

    private static ScanBatch scanProblem(SplittableRandom r, int batch, int len, int dd, int n) {
        float[] a = new float[dd * n], bias = new float[dd];
        for (int i = 0; i < a.length; i++) a[i] = -(1 + i % n);
        for (int i = 0; i < dd; i++) bias[i] = -3f + 0.05f * i % 2f;
        return new ScanBatch(batch, len, dd, n, random(r, batch * len * dd), random(r, batch * len * dd), bias, true,
                null, a, random(r, batch * len * n), random(r, batch * len * n), random(r, dd),
                random(r, batch * len * dd), null, Discretization.ZOH);
    }

    private void lineScaled(String name, java.util.function.Consumer<SsmKernels> op, SsmKernels simd, double per,
                            String unit) {
        double sc = timeMillis(() -> op.accept(ScalarKernels.INSTANCE)) * 1e6 / per;
        double si = timeMillis(() -> op.accept(simd)) * 1e6 / per;
        out().printf(Locale.ROOT, "%-28s scalar=%.3f simd=%.3f speedup=%.2f (%s)%n", name, sc, si, sc / si, unit);
    }

    /** Best-of-rounds milliseconds per call for a long-running operation, after a timed warm-up. */
    private double timeMillis(Runnable op) {
        return timeMillis(op, quick ? 0.3 : 1.5);
    }

    /**
     * The same with a given warm-up: big Vector API methods take C2 seconds to compile on a busy 2-core machine,
     * and until then they run as Java code at a fraction of the speed.
     */
    private double timeMillis(Runnable op, double warmSeconds) {
        long warmUntil = System.nanoTime() + (long) (warmSeconds * 1e9);
        while (System.nanoTime() < warmUntil) op.run();
        double best = Double.MAX_VALUE;
        for (int k = 0; k < (quick ? 3 : 10); k++) {
            long t0 = System.nanoTime();
            op.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    private void line(String name, java.util.function.Consumer<SsmKernels> op, SsmKernels simd) {
        double sc = time(() -> op.accept(ScalarKernels.INSTANCE)), si = time(() -> op.accept(simd));
        out().printf(Locale.ROOT, "%-28s scalar=%.0f simd=%.0f speedup=%.2f%n", name, sc, si, sc / si);
    }

    /** Best-of-rounds ns per call. */
    private double time(Runnable op) {
        int rounds = quick ? 3 : 10, calls = quick ? 20_000 : 100_000;
        for (int i = 0; i < calls; i++) op.run(); // warm-up / JIT
        double best = Double.MAX_VALUE;
        for (int k = 0; k < rounds; k++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) op.run();
            best = Math.min(best, (System.nanoTime() - t0) / (double) calls);
        }
        return best;
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }
}
