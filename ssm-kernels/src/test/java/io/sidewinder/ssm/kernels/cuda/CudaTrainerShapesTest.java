package io.sidewinder.ssm.kernels.cuda;

import static io.sidewinder.ssm.kernels.cuda.CudaScanParityTest.OUT_ATOL;
import static io.sidewinder.ssm.kernels.cuda.CudaScanParityTest.OUT_RTOL;
import static io.sidewinder.ssm.kernels.cuda.CudaScanParityTest.assertClose;
import static io.sidewinder.ssm.kernels.cuda.CudaScanParityTest.assertCloseScaled;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.SsmKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The calls the trainer's fp32 backend ({@code trainer.grad.Fp32Backprop}) makes, on the CUDA backend against the
 * scalar one: Δ bias with softplus, a gap per step, D, the z gate, no resets, the forward from a zero state, the
 * backward with {@code h0 = null} (the contract's zeros) and the forward's chunk states at the trainer's chunk 64
 * (or none, or a chunk too long to reuse: the GPU then recomputes the states from the null h0). Skipped without a GPU.
 */
class CudaTrainerShapesTest {

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "CUDA tests skipped: " + Cuda.unavailableReason());
    }

    @ParameterizedTest(name = "{0} batch={1} L={2} D={3} N={4} chunk={5} reuse={6}")
    @CsvSource({
            "ZOH, 32, 96, 64, 16, 64, true",     // train --lookback 96, d_model 32 (d_inner 64), the default ZOH
            "ZOH, 7, 192, 64, 16, 64, true",
            "EULER, 32, 96, 64, 16, 64, true",
            "ZOH, 5, 41, 16, 8, 64, true",       // L shorter than a chunk
            "ZOH, 3, 96, 64, 32, 64, false",     // no chunk states: recompute from h0 = null
            "ZOH, 2, 1300, 24, 16, 1300, true",  // chunk longer than the L-split kernel reuses: recompute from null
            "EULER, 2, 700, 24, 16, 700, true",  // chunk longer than the sequential kernel reuses
            "ZOH, 4, 96, 64, 4, 64, true",       // N = 4 (the CLI tests' model): the CPU path inside CudaKernels
    })
    void trainerCallsMatchTheScalarBackend(Discretization disc, int batch, int len, int channels, int n, int chunk,
                                           boolean passStates) {
        SsmKernels cuda = new CudaKernels(Cuda.runtime().orElseThrow(), ScalarKernels.INSTANCE);
        ScanBatch in = ScanProblems.random(batch, len, channels, n, disc, true, false, 31L * len + channels);
        SplittableRandom r = new SplittableRandom(5);
        float[] dy = ScanProblems.uniform(r, batch * len * channels, 1f);

        float[] yRef = new float[batch * len * channels], sRef = new float[in.chunkStatesLength(chunk)];
        ScalarKernels.INSTANCE.scanForward(in, new float[in.stateLength()], yRef, sRef, chunk);
        float[] h = new float[in.stateLength()], y = new float[yRef.length], s = new float[sRef.length];
        cuda.scanForward(in, h, y, s, chunk);
        if (n != 8 && n != 16 && n != 32) {   // no kernel for this N: CudaKernels hands it to its CPU backend, whole
            org.junit.jupiter.api.Assertions.assertArrayEquals(yRef, y, "y of the delegated scan");
            ScanGradients ref = ScanGradients.zerosFor(in), got = ScanGradients.zerosFor(in);
            ScalarKernels.INSTANCE.scanBackward(in, null, sRef, chunk, dy, ref);
            cuda.scanBackward(in, null, passStates ? s : null, chunk, dy, got);
            org.junit.jupiter.api.Assertions.assertArrayEquals(ref.du(), got.du(), "du of the delegated scan");
            org.junit.jupiter.api.Assertions.assertArrayEquals(ref.db(), got.db(), "dB of the delegated scan");
            return;
        }
        assertClose(ScanProblems.toDouble(yRef), y, OUT_RTOL, OUT_ATOL, "y");
        assertClose(ScanProblems.toDouble(sRef), s, OUT_RTOL, OUT_ATOL, "chunk states");

        ScanGradients ref = ScanGradients.zerosFor(in), got = ScanGradients.zerosFor(in);
        ScalarKernels.INSTANCE.scanBackward(in, null, sRef, chunk, dy, ref);
        cuda.scanBackward(in, null, passStates ? s : null, chunk, dy, got);
        assertClose(ScanProblems.toDouble(ref.du()), got.du(), 2 * OUT_RTOL, 2 * OUT_ATOL, "du");
        CudaScanParityTest.assertCloseDeltaRaw(ScanProblems.toDouble(ref.dDeltaRaw()), got.dDeltaRaw(), "dDeltaRaw");
        assertClose(ScanProblems.toDouble(ref.dz()), got.dz(), 2 * OUT_RTOL, 2 * OUT_ATOL, "dz");
        assertClose(ScanProblems.toDouble(ref.dh0()), got.dh0(), 2 * OUT_RTOL, 2 * OUT_ATOL, "dh0");
        assertCloseScaled(ScanProblems.toDouble(ref.db()), got.db(), "dB");
        assertCloseScaled(ScanProblems.toDouble(ref.dc()), got.dc(), "dC");
        assertCloseScaled(ScanProblems.toDouble(ref.da()), got.da(), "dA");
        assertCloseScaled(ScanProblems.toDouble(ref.dd()), got.dd(), "dD");
        assertCloseScaled(ScanProblems.toDouble(ref.dDeltaBias()), got.dDeltaBias(), "dDeltaBias");
    }
}
