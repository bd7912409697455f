package io.sidewinder.ssm.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A cuMemAlloc'd block of device memory; {@link #close()} frees it. Every method makes the buffer's context current
 * first: the driver keeps the current context per thread, and a buffer may be used from any thread.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDriver driver;
    private final long context;
    private final long pointer;
    private final long bytes;
    private boolean freed;

    DeviceBuffer(CudaDriver driver, long context, long bytes) {
        this.driver = driver;
        this.context = context;
        this.bytes = bytes;
        driver.setCurrent(context);
        this.pointer = driver.malloc(bytes);
    }

    public long pointer() {
        return pointer;
    }

    public long bytes() {
        return bytes;
    }

    public void upload(float[] src) {
        upload(MemorySegment.ofArray(src), src.length * 4L);
    }

    public void upload(byte[] src) {
        upload(MemorySegment.ofArray(src), src.length);
    }

    private void upload(MemorySegment heap, long n) {
        checkSize(n);
        driver.setCurrent(context);
        // Heap segments cannot be passed to native code: copy through an off-heap staging segment.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(Math.max(n, 1), 16);
            staging.copyFrom(heap.asSlice(0, n));
            driver.copyToDevice(pointer, staging, n);
        }
    }

    public void download(float[] dst) {
        long n = dst.length * 4L;
        checkSize(n);
        driver.setCurrent(context);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(Math.max(n, 1), 16);
            driver.copyToHost(staging, pointer, n);
            MemorySegment.ofArray(dst).copyFrom(staging.asSlice(0, n));
        }
    }

    /** Sets every 32-bit word to the bits of {@code value} (0f to clear, NaN to poison). */
    public void fill(float value) {
        driver.setCurrent(context);
        driver.fill32(pointer, Float.floatToRawIntBits(value), bytes / 4);
    }

    private void checkSize(long n) {
        if (n > bytes) {
            throw new IllegalArgumentException(n + " bytes do not fit a device buffer of " + bytes);
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            driver.setCurrent(context);
            driver.free(pointer);
        }
    }

}
