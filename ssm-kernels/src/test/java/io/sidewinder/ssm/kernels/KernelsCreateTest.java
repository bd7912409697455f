package io.sidewinder.ssm.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.kernels.cuda.Cuda;
import io.sidewinder.ssm.kernels.cuda.CudaKernels;
import org.junit.jupiter.api.Test;

/** {@link Kernels#create}: a backend by name for one user, with threads and the GPU requirement. */
class KernelsCreateTest {

    @Test
    void scalarWithThreadsRunsItsScanInTiles() {
        SsmKernels k = Kernels.create("scalar", 3, false);
        ParallelKernels p = assertInstanceOf(ParallelKernels.class, k);
        assertEquals(3, p.threads());
        assertSame(ScalarKernels.INSTANCE, Kernels.create("SCALAR", 1, false));
    }

    @Test
    void simdNeedsTheVectorModule() {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        if (vector) {
            assertTrue(Kernels.create("simd", 1, false).name().toLowerCase().contains("simd"),
                    Kernels.create("simd", 1, false).name());
        } else {
            assertThrows(IllegalStateException.class, () -> Kernels.create("simd", 1, false));
        }
    }

    @Test
    void unknownNamesAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Kernels.create("gpu", 1, false));
        assertTrue(e.getMessage().contains("auto, scalar, simd, cuda"), e.getMessage());
    }

    @Test
    void cudaWithoutAGpuFallsBackToTheCpuUnlessRequired() {
        assumeFalse(Cuda.available(), "this machine has a usable GPU");
        SsmKernels k = Kernels.create("cuda", 2, false);
        assertFalse(k instanceof CudaKernels, k.name());
        assertFalse(k.name().contains("cuda"), k.name());
        var e = assertThrows(IllegalStateException.class, () -> Kernels.create("cuda", 2, true));
        assertTrue(e.getMessage().contains("CUDA is unavailable"), e.getMessage());
        assertTrue(e.getMessage().contains(Cuda.unavailableReason()), e.getMessage());
    }

    @Test
    void cudaWithAGpuRunsTheScanThere() {
        assumeTrue(Cuda.available(), "no usable GPU");
        SsmKernels k = Kernels.create("cuda", 2, true);
        assertInstanceOf(CudaKernels.class, k);
        assertTrue(k.name().startsWith("cuda("), k.name());
    }
}
