package io.sidewinder.ssm.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A cuMemAlloc'd block of device memory; {@link #close()} frees it. */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDriver driver;
    private final long pointer;
    private final long bytes;
    private boolean freed;

    DeviceBuffer(CudaDriver driver, long bytes) {
        this.driver = driver;
        this.bytes = bytes;
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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(Math.max(n, 1), 16);
            driver.copyToHost(staging, pointer, n);
            MemorySegment.ofArray(dst).copyFrom(staging.asSlice(0, n));
        }
    }

    /** Sets every 32-bit word to the bits of {@code value} (0f to clear, NaN to poison). */
    public void fill(float value) {
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
            driver.free(pointer);
        }
    }

}
