package io.sidewinder.app.bench;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelState;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Scalar vs SIMD kernels measured in one run, single thread: one line per kernel,
 * {@code <kernel> scalar=<ns> simd=<ns> speedup=<r>}. Each figure is the best of several timed rounds after a
 * warm-up (the Vector API is slow until compiled).
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Scalar vs SIMD kernel timings (ns per call), measured in one run on this machine.")
public final class BenchKernelsCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Fewer rounds (for a smoke run).")
    boolean quick;

    @Override
    public Integer call() {
        SsmKernels simd = Kernels.simdOrNull();
        if (simd == null) {
            System.err.println("bench kernels: the SIMD backend needs --add-modules jdk.incubator.vector (./sidewinder passes it)");
            return 1;
        }
        SplittableRandom r = new SplittableRandom(1);
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
        ModelConfig cfg = ModelConfig.defaults(1);
        ModelParameters params = ModelParameters.initialise(cfg, 1);
        MambaModel scalarModel = new MambaModel(params, ScalarKernels.INSTANCE), simdModel = new MambaModel(params, simd);
        ModelState s1 = ModelState.zeros(cfg), s2 = ModelState.zeros(cfg);
        float[] head = new float[cfg.headWidth()], in = {0.3f};
        double sc = time(() -> scalarModel.step(in, 1f, s1, head)), si = time(() -> simdModel.step(in, 1f, s2, head));
        System.out.printf(Locale.ROOT, "%-28s scalar=%.0f simd=%.0f speedup=%.2f%n", "model-step default(1ch)", sc, si, sc / si);
        return 0;
    }

    private void line(String name, java.util.function.Consumer<SsmKernels> op, SsmKernels simd) {
        double sc = time(() -> op.accept(ScalarKernels.INSTANCE)), si = time(() -> op.accept(simd));
        System.out.printf(Locale.ROOT, "%-28s scalar=%.0f simd=%.0f speedup=%.2f%n", name, sc, si, sc / si);
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
