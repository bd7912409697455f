package io.sidewinder.trainer.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.ssm.kernels.cuda.Cuda;
import io.sidewinder.ssm.kernels.cuda.CudaTrainStep;
import io.sidewinder.ssm.kernels.cuda.DeviceScan;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The device-resident training step ({@link CudaTrainStep}) against the trainer's fp32 CPU path
 * ({@link Fp32Backprop} on the scalar kernels): head outputs and every gradient tensor of L = Σ head·g, for two
 * consecutive steps on the same instance (new inputs and parameters: the captured graphs must read the new data and
 * the gradients must not accumulate across steps). Skipped without a GPU.
 *
 * <p>Tolerance, per tensor: |gpu − cpu| ≤ RTOL·|cpu| + ATOL_OF_MAX·max|cpu|, RTOL = ATOL_OF_MAX = 1e-3 (the CUDA
 * scan contract's {@code assertCloseScaled}). Both sides are fp32; they differ in summation order (tiled GEMMs,
 * row sums split over 32 blocks with atomics, warp-tree RMSNorm sums) and in the scan's approximate exp2 and softplus
 * (≤ 5e-6 relative per element, bench/results/CUDA-SCAN.md), which two layers of backward amplify by the
 * conditioning of the model; the SIMD backend's own distance from the scalar one is printed next to the GPU's as the
 * scale of that fp32 noise.
 */
class CudaTrainStepParityTest {
    static final double RTOL = 1e-3, ATOL_OF_MAX = 1e-3;

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "CUDA tests skipped: " + Cuda.unavailableReason());
    }

    @ParameterizedTest(name = "{0} channels={1} batch={2} L={3} graphs={4} scan={5}/{6} d_model={7}")
    @CsvSource({
            "ZOH, 1, 8, 256, true, LSPLIT, LSPLIT, 32",   // the default model at the benchmark's shape, default kernels
            "ZOH, 1, 8, 256, true, BWD2, BWD2, 32",
            "EULER, 2, 3, 150, true, LSPLIT, LSPLIT, 32", // L not a multiple of 32 nor of a tile; 2 channels
            "EULER, 2, 3, 150, true, BWD2, BWD2, 32",     // ... nor of the bwd2 chunk (64)
            "ZOH, 1, 2, 300, false, BWD2, LSPLIT, 32",    // two L-split tiles; kernels launched one by one, no graphs
            "ZOH, 1, 2, 70, false, LSPLIT, BWD2, 32",
            "ZOH, 1, 8, 256, true, BWD2, BWD2P2, 32",     // bwd2 with 2 states per thread
            "EULER, 2, 3, 150, true, LSPLIT, BWD2P2, 32",
            "ZOH, 1, 2, 96, true, LSPLIT, LSPLIT, 128",   // x_proj's shared memory above the default 48 KiB (opt-in)
    })
    void stepMatchesFp32Backprop(Discretization disc, int channels, int batch, int len, boolean graphs, String fwd,
                                 String bwd, int dModel) {
        ModelConfig base = ModelConfig.defaults(channels).withDiscretization(disc);
        ModelConfig cfg = base.withShape(dModel, base.layers(), base.dState(), base.horizon());
        SplittableRandom r = new SplittableRandom(31L * len + batch);
        ModelParameters p = perturbed(cfg, r);
        try (CudaTrainStep step = new CudaTrainStep(Cuda.runtime().orElseThrow(), p, batch, len, graphs,
                variant(fwd), variant(bwd))) {
            for (int s = 0; s < 2; s++) {
                if (s == 1) {
                    p = perturbed(cfg, r);
                    step.setParameters(p);
                }
                int ch = cfg.channels(), hw = cfg.headWidth();
                float[] x = new float[batch * len * ch], gaps = new float[batch * len], g = new float[batch * len * hw];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                for (int i = 0; i < gaps.length; i++) gaps[i] = (float) (0.3 + 2 * r.nextDouble());
                for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();

                Fp32Backprop ref = new Fp32Backprop(p, ScalarKernels.INSTANCE);
                Fp32Backprop.Tape tape = ref.forward(x, gaps, batch, len);
                ref.backward(tape, g);
                SsmKernels simdKernels = Kernels.get();
                Fp32Backprop simd = new Fp32Backprop(p, simdKernels);
                Fp32Backprop.Tape simdTape = simd.forward(x, gaps, batch, len);
                simd.backward(simdTape, g);

                float[] head = step.forward(x, gaps).clone();
                step.backward(g);
                String tag = disc + " " + batch + "x" + len + " " + fwd + "/" + bwd + " step " + s + " ";
                report(tag + "head", tape.head, head, simdTape.head);
                close(tape.head, head, tag + "head");
                Map<String, float[]> got = step.gradients();
                assertEquals(ref.gradients().keySet(), got.keySet());
                for (Map.Entry<String, float[]> e : ref.gradients().entrySet()) {
                    report(tag + "d" + e.getKey(), e.getValue(), got.get(e.getKey()), simd.gradients().get(e.getKey()));
                }
                for (Map.Entry<String, float[]> e : ref.gradients().entrySet()) {
                    close(e.getValue(), got.get(e.getKey()), tag + "d" + e.getKey());
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void anUnknownKernelFamilyIsRefusedBeforeAnythingIsAllocated() {
        ModelParameters p = ModelParameters.initialise(ModelConfig.defaults(1), 3);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new CudaTrainStep(Cuda.runtime().orElseThrow(), p, 8, 256, true, DeviceScan.BWD2_P2, DeviceScan.L_SPLIT));
        // and the runtime is usable afterwards: a step of the same shape builds and runs
        try (CudaTrainStep step = new CudaTrainStep(Cuda.runtime().orElseThrow(), p, 8, 256)) {
            float[] gaps = new float[8 * 256];
            java.util.Arrays.fill(gaps, 1f);
            float[] head = step.forward(new float[8 * 256], gaps);
            assertEquals(8 * 256 * p.config().headWidth(), head.length);
        }
    }

    static int variant(String name) {
        return switch (name) {
            case "LSPLIT" -> DeviceScan.L_SPLIT;
            case "BWD2P2" -> DeviceScan.BWD2_P2;
            default -> DeviceScan.BWD2;
        };
    }

    static ModelParameters perturbed(ModelConfig cfg, SplittableRandom r) {
        ModelParameters p = ModelParameters.initialise(cfg, r.nextLong());
        for (var t : p.all()) {
            for (int i = 0; i < t.data().length; i++) t.data()[i] += (float) (0.1 * r.nextGaussian());
        }
        return p;
    }

    /** One line: the GPU's and the SIMD backend's largest error relative to the tensor's largest magnitude. */
    static void report(String what, float[] expected, float[] gpu, float[] simd) {
        double max = 0, eg = 0, es = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            eg = Math.max(eg, Math.abs(gpu[i] - expected[i]));
            es = Math.max(es, Math.abs(simd[i] - expected[i]));
        }
        System.out.printf("  %-52s max|ref| %.3e  gpu err/max %.2e  simd err/max %.2e%n", what, max,
                max == 0 ? eg : eg / max, max == 0 ? es : es / max);
    }

    static void close(float[] expected, float[] actual, String what) {
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        assertTrue(max > 0, what + ": the reference is all zero, the check would be vacuous");
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) fail(what + ": non-finite " + actual[i] + " at " + i);
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= RTOL * Math.abs(expected[i]) + ATOL_OF_MAX * max)) {
                fail(String.format("%s[%d]: gpu %.8g vs cpu %.8g (max |ref| %.3g)", what, i, actual[i], expected[i], max));
            }
        }
    }
}
