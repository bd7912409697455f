package io.sidewinder.ssm.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.sidewinder.ssm.kernels.cuda.Cuda;
import org.junit.jupiter.api.Test;

/** -Dsidewinder.backend=cuda: the GPU backend where there is one, the auto CPU backend (not an error) elsewhere. */
class CudaBackendSelectionTest {

    @Test
    void cudaFallsBackToTheCpuBackendWithoutAGpu() {
        assumeFalse(Cuda.available(), "this machine has a GPU");
        SsmKernels k = Kernels.select("cuda");
        assertFalse(k.name().startsWith("cuda"), k.name());
        assertTrue(k.name().equals(Kernels.select("auto").name()), k.name());
    }

    @Test
    void cudaSelectsTheGpuBackendWhenThereIsOne() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Cuda.available(), () -> "no GPU: " + Cuda.unavailableReason());
        assertTrue(Kernels.select("cuda").name().startsWith("cuda("));
    }
}
