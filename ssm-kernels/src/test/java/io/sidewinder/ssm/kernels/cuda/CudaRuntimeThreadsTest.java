package io.sidewinder.ssm.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The driver keeps the current context per thread: a device buffer must work from any thread, including one that
 * never touched the runtime. Skipped without a GPU.
 */
class CudaRuntimeThreadsTest {

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "CUDA tests skipped: " + Cuda.unavailableReason());
    }

    @Test
    void aBufferMadeOnOneThreadIsFilledCopiedAndFreedOnFreshThreads() throws Exception {
        CudaRuntime runtime = Cuda.runtime().orElseThrow();
        float[] data = {1f, -2f, 3.5f, 0f, 7f};
        ExecutorService[] threads = {Executors.newSingleThreadExecutor(), Executors.newSingleThreadExecutor(),
                Executors.newSingleThreadExecutor()};
        try {
            DeviceBuffer buffer = threads[0].submit(() -> runtime.allocate(data.length * 4L)).get(60, java.util.concurrent.TimeUnit.SECONDS);
            threads[1].submit(() -> buffer.upload(data)).get(60, java.util.concurrent.TimeUnit.SECONDS);
            float[] back = threads[2].submit(() -> {
                float[] out = new float[data.length];
                buffer.download(out);
                return out;
            }).get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertArrayEquals(data, back);
            float[] filled = threads[1].submit(() -> {
                buffer.fill(0.25f);
                float[] out = new float[data.length];
                buffer.download(out);
                return out;
            }).get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0.25f}, filled);
            threads[2].submit(buffer::close).get(60, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            for (ExecutorService t : threads) t.shutdownNow();
        }
    }
}
