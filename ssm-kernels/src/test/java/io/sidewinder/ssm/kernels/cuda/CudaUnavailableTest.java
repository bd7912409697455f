package io.sidewinder.ssm.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/** Without a GPU the loader fails softly: no exception, an empty runtime and a reason that says why. */
class CudaUnavailableTest {

    @Test
    void loaderFailsSoftlyWithAReason() {
        assumeFalse(Cuda.available(), "this machine has a usable GPU");
        assertTrue(Cuda.runtime().isEmpty());
        assertNotNull(Cuda.unavailableReason());
        assertTrue(Cuda.unavailableReason().length() > 10, Cuda.unavailableReason());
    }

    @Test
    void fatbinIsOnTheClasspathExactlyWhenNvccBuiltIt() {
        assumeFalse(Cuda.available(), "checked on build machines, which have no GPU");
        boolean nvcc = System.getenv("PATH") != null && java.util.Arrays.stream(System.getenv("PATH").split(":"))
                .anyMatch(dir -> new java.io.File(dir, "nvcc").canExecute());
        assertEquals(nvcc, Cuda.class.getResource(Cuda.FATBIN_RESOURCE) != null,
                "fatbin resource present iff nvcc is on the PATH");
    }
}
