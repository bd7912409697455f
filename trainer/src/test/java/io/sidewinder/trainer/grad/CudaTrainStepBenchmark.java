package io.sidewinder.trainer.grad;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.cuda.Cuda;
import io.sidewinder.ssm.kernels.cuda.CudaRuntime;
import io.sidewinder.ssm.kernels.cuda.CudaTrainStep;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The device-resident training step at the SIMD "train step" shape (default model, batch 8 × L 256): wall time per
 * step including the per-step copies (inputs up, head down, ∂L/∂head up, gradients down), median of STEPS after
 * WARMUP; also the forward and backward halves, the kernels alone on the GPU clock, the same without CUDA graphs,
 * and the SIMD fp32 step on this machine's CPU for context. Prints the ratio against the build machine's 23.9 ms.
 * Args: [steps] [batch] [length].
 */
public final class CudaTrainStepBenchmark {
    static final double SIMD_BUILD_MACHINE_MS = 23.9;

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int len = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        CudaRuntime rt = Cuda.runtime().orElseThrow(() -> new IllegalStateException(Cuda.unavailableReason()));
        System.out.println("device: " + rt.description());
        ModelConfig cfg = ModelConfig.defaults(1);
        SplittableRandom r = new SplittableRandom(7);
        ModelParameters p = CudaTrainStepParityTest.perturbed(cfg, r);
        int rows = batch * len, hw = cfg.headWidth();
        float[] x = new float[rows * cfg.channels()], gaps = new float[rows], g = new float[rows * hw];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < gaps.length; i++) gaps[i] = (float) (0.3 + 2 * r.nextDouble());
        for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();

        // First row: the defaults (CudaTrainStep.DEFAULT_FORWARD / DEFAULT_BACKWARD), the step the ratio is about.
        String[][] configs = {{"LSPLIT", "LSPLIT", "true"}, {"BWD2", "LSPLIT", "true"}, {"BWD2", "BWD2", "true"},
                {"LSPLIT", "BWD2", "true"}, {"LSPLIT", "BWD2P2", "true"}, {"BWD2", "BWD2P2", "true"},
                {"LSPLIT", "LSPLIT", "false"}};
        for (String[] conf : configs) {
            boolean graphs = Boolean.parseBoolean(conf[2]);
            try (CudaTrainStep step = new CudaTrainStep(rt, p, batch, len, graphs,
                    CudaTrainStepParityTest.variant(conf[0]), CudaTrainStepParityTest.variant(conf[1]))) {
                System.out.println("step: " + step.describe());
                int warmup = 1000;   // also warms the JIT for the host side of the copies
                double[] total = new double[steps], fwd = new double[steps], bwd = new double[steps];
                for (int i = -warmup; i < steps; i++) {
                    long t0 = System.nanoTime();
                    step.forward(x, gaps);
                    long t1 = System.nanoTime();
                    step.backward(g);
                    long t2 = System.nanoTime();
                    if (i >= 0) {
                        fwd[i] = (t1 - t0) / 1e6;
                        bwd[i] = (t2 - t1) / 1e6;
                        total[i] = (t2 - t0) / 1e6;
                    }
                }
                float device = step.deviceMillisPerStep(200);
                double med = median(total);
                System.out.printf("  graphs %-3s  step (wall, with copies) median %.3f ms  p10 %.3f  p90 %.3f  min %.3f"
                                + "  over %d steps | forward %.3f ms, backward %.3f ms | kernels alone (GPU clock) %.3f ms"
                                + " | vs SIMD %.1f ms on the build machine: %.1fx%n",
                        graphs ? "on" : "off", med, pct(total, 0.1), pct(total, 0.9), pct(total, 0), steps,
                        median(fwd), median(bwd), device, SIMD_BUILD_MACHINE_MS, SIMD_BUILD_MACHINE_MS / med);
                if (conf == configs[0]) {
                    var prof = step.profile(20);
                    double sum = prof.values().stream().mapToDouble(Double::doubleValue).sum();
                    System.out.printf("  per kernel (launched one by one behind a spin kernel, event pair each; "
                            + "µs per step, summed over layers): total %.1f µs%n", sum);
                    prof.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                            .forEach(en -> System.out.printf("    %-28s %7.1f%n", en.getKey(), en.getValue()));
                }
            }
        }
        // The SIMD fp32 step on this machine's CPU, single thread, for context (not the ratio's reference).
        Fp32Backprop cpu = new Fp32Backprop(p, Kernels.get());
        int cpuSteps = 20;
        double[] t = new double[cpuSteps];
        for (int i = -10; i < cpuSteps; i++) {
            long t0 = System.nanoTime();
            cpu.zeroGradients();
            cpu.backward(cpu.forward(x, gaps, batch, len), g);
            if (i >= 0) t[i] = (System.nanoTime() - t0) / 1e6;
        }
        System.out.printf("  %s fp32 step on this machine's CPU (one thread): median %.2f ms over %d steps%n",
                Kernels.get().name(), median(t), cpuSteps);
    }

    static double median(double[] v) {
        return pct(v, 0.5);
    }

    static double pct(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[(int) Math.round(q * (s.length - 1))];
    }
}
