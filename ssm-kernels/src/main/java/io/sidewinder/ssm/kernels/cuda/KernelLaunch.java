package io.sidewinder.ssm.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds cuLaunchKernel's parameter array: one native slot per argument (device pointers as 64-bit, ints and
 * floats as 32-bit) and the array of their addresses the driver reads.
 */
final class KernelLaunch {
    private final List<Object> args = new ArrayList<>();
    private long stream;
    private java.util.function.Consumer<String> before, after;

    /** Hooks run just before and after the launch call with the kernel's name (profiling); null: none. */
    KernelLaunch hooks(java.util.function.Consumer<String> before, java.util.function.Consumer<String> after) {
        this.before = before;
        this.after = after;
        return this;
    }

    /** Launches on {@code stream} instead of the legacy default stream (0). */
    KernelLaunch stream(long stream) {
        this.stream = stream;
        return this;
    }

    KernelLaunch f32(float value) {
        args.add(value);
        return this;
    }

    KernelLaunch pointer(DeviceBuffer buffer) {
        args.add(buffer == null ? 0L : buffer.pointer());
        return this;
    }

    KernelLaunch pointer(long devicePointer) {
        args.add(devicePointer);
        return this;
    }

    KernelLaunch i32(int value) {
        args.add(value);
        return this;
    }

    KernelLaunch i64(long value) {
        args.add(new long[] {value});
        return this;
    }

    void launch(CudaRuntime rt, String kernel, int gridX, int gridY, int block, int sharedBytes) {
        launch(rt, kernel, gridX, gridY, 1, block, sharedBytes);
    }

    void launch(CudaRuntime rt, String kernel, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(ValueLayout.ADDRESS, args.size());
            for (int i = 0; i < args.size(); i++) {
                Object a = args.get(i);
                MemorySegment slot;
                if (a instanceof Long p) {
                    slot = arena.allocateFrom(ValueLayout.JAVA_LONG, p);
                } else if (a instanceof Integer v) {
                    slot = arena.allocateFrom(ValueLayout.JAVA_INT, v);
                } else if (a instanceof Float v) {
                    slot = arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
                } else {
                    slot = arena.allocateFrom(ValueLayout.JAVA_LONG, ((long[]) a)[0]);
                }
                params.setAtIndex(ValueLayout.ADDRESS, i, slot);
            }
            long f = rt.function(kernel);
            if (before != null) before.accept(kernel);
            rt.driver().launch(f, gridX, gridY, gridZ, block, sharedBytes, stream, params);
            if (after != null) after.accept(kernel);
        }
    }
}
