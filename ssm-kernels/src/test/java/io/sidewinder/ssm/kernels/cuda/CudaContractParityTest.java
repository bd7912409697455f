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
 * The CUDA backend through the shared scan contract ({@link SsmKernels#scanForward}/{@code scanBackward}) against
 * the scalar reference backend, chunk states produced by each backend's own forward. Skipped without a GPU.
 */
class CudaContractParityTest {

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "CUDA tests skipped: " + Cuda.unavailableReason());
    }

    @ParameterizedTest(name = "{0} batch={1} L={2} D={3} N={4} chunk={5}")
    @CsvSource({
            "ZOH, 3, 600, 48, 16, 256",
            "EULER, 2, 257, 17, 8, 64",
            "BILINEAR, 1, 130, 9, 32, 100",
            "ZOH, 2, 90, 5, 5, 32",      // N = 5: the CPU backend's path inside CudaKernels
    })
    void cudaBackendMatchesTheScalarReference(Discretization disc, int batch, int len, int channels, int n, int chunk) {
        SsmKernels cuda = new CudaKernels(Cuda.runtime().orElseThrow(), ScalarKernels.INSTANCE);
        ScanBatch in = ScanProblems.random(batch, len, channels, n, disc, true, true, len + channels);
        SplittableRandom r = new SplittableRandom(9);
        float[] h0 = ScanProblems.uniform(r, in.stateLength(), 1f);
        float[] dy = ScanProblems.uniform(r, batch * len * channels, 1f);

        float[] hRef = h0.clone(), yRef = new float[batch * len * channels], sRef = new float[in.chunkStatesLength(chunk)];
        ScalarKernels.INSTANCE.scanForward(in, hRef, yRef, sRef, chunk);
        float[] h = h0.clone(), y = new float[yRef.length], s = new float[sRef.length];
        cuda.scanForward(in, h, y, s, chunk);
        if (n != 8 && n != 16 && n != 32) {   // no kernel for this N: CudaKernels hands it to its CPU backend, whole
            org.junit.jupiter.api.Assertions.assertArrayEquals(yRef, y, "y of the delegated scan");
            org.junit.jupiter.api.Assertions.assertArrayEquals(hRef, h, "h of the delegated scan");
            ScanGradients ref = ScanGradients.zerosFor(in), got = ScanGradients.zerosFor(in);
            ScalarKernels.INSTANCE.scanBackward(in, h0, sRef, chunk, dy, ref);
            cuda.scanBackward(in, h0, s, chunk, dy, got);
            org.junit.jupiter.api.Assertions.assertArrayEquals(ref.du(), got.du(), "du of the delegated scan");
            org.junit.jupiter.api.Assertions.assertArrayEquals(ref.da(), got.da(), "dA of the delegated scan");
            return;
        }
        assertClose(ScanProblems.toDouble(yRef), y, OUT_RTOL, OUT_ATOL, "y");
        assertClose(ScanProblems.toDouble(hRef), h, OUT_RTOL, OUT_ATOL, "h");
        assertClose(ScanProblems.toDouble(sRef), s, OUT_RTOL, OUT_ATOL, "chunk states");

        ScanGradients ref = ScanGradients.zerosFor(in), got = ScanGradients.zerosFor(in);
        ScalarKernels.INSTANCE.scanBackward(in, h0, sRef, chunk, dy, ref);
        cuda.scanBackward(in, h0, s, chunk, dy, got);
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
