package io.sidewinder.ssm.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written FFM bindings to the CUDA driver API (libcuda.so.1); no jextract, no JNI. Each method checks the
 * CUresult and throws {@link CudaException} naming the call and the error. Handles (contexts, modules,
 * functions, events, device pointers) travel as raw longs.
 */
final class CudaDriver {
    static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    static final int CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT = 9;

    private static final Linker LINKER = Linker.nativeLinker();
    private final SymbolLookup lib;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDeviceGetAttribute, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuCtxSynchronize, cuModuleLoadData,
            cuModuleGetFunction, cuFuncSetAttribute, cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuMemsetD32,
            cuLaunchKernel, cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy,
            cuGetErrorName, cuOccupancyMaxActiveBlocksPerMultiprocessor;
    // Streams and graphs (CudaTrainStep): bound when present, so that a driver without them still loads.
    private final MethodHandle cuStreamCreate, cuStreamDestroy, cuStreamSynchronize, cuStreamBeginCapture,
            cuStreamEndCapture, cuGraphInstantiateWithFlags, cuGraphLaunch, cuGraphExecDestroy, cuGraphDestroy,
            cuMemAllocHost, cuMemFreeHost, cuStreamWaitEvent;
    static final int CU_STREAM_CAPTURE_MODE_RELAXED = 2;

    private CudaDriver(SymbolLookup lib) {
        this.lib = lib;
        cuInit = bind("cuInit", JAVA_INT);
        cuDriverGetVersion = bind("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = bind("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = bind("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = bind("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = bind("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDevicePrimaryCtxRetain = bind("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuCtxSetCurrent = bind("cuCtxSetCurrent", JAVA_LONG);
        cuCtxSynchronize = bind("cuCtxSynchronize");
        cuModuleLoadData = bind("cuModuleLoadData", ADDRESS, ADDRESS);
        cuModuleGetFunction = bind("cuModuleGetFunction", ADDRESS, JAVA_LONG, ADDRESS);
        cuFuncSetAttribute = bind("cuFuncSetAttribute", JAVA_LONG, JAVA_INT, JAVA_INT);
        cuOccupancyMaxActiveBlocksPerMultiprocessor = bind("cuOccupancyMaxActiveBlocksPerMultiprocessor", ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_LONG);
        cuMemAlloc = bind("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = bind("cuMemFree_v2", JAVA_LONG);
        cuMemcpyHtoD = bind("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = bind("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemsetD32 = bind("cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
        cuLaunchKernel = bind("cuLaunchKernel", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        cuEventCreate = bind("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = bind("cuEventRecord", JAVA_LONG, JAVA_LONG);
        cuEventSynchronize = bind("cuEventSynchronize", JAVA_LONG);
        cuEventElapsedTime = bind("cuEventElapsedTime", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuEventDestroy = bind("cuEventDestroy_v2", JAVA_LONG);
        cuGetErrorName = bind("cuGetErrorName", JAVA_INT, ADDRESS);
        cuStreamCreate = bindOptional("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamDestroy = bindOptional("cuStreamDestroy_v2", JAVA_LONG);
        cuStreamSynchronize = bindOptional("cuStreamSynchronize", JAVA_LONG);
        cuStreamBeginCapture = bindOptional("cuStreamBeginCapture_v2", JAVA_LONG, JAVA_INT);
        cuStreamEndCapture = bindOptional("cuStreamEndCapture", JAVA_LONG, ADDRESS);
        cuGraphInstantiateWithFlags = bindOptional("cuGraphInstantiateWithFlags", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuGraphLaunch = bindOptional("cuGraphLaunch", JAVA_LONG, JAVA_LONG);
        cuGraphExecDestroy = bindOptional("cuGraphExecDestroy", JAVA_LONG);
        cuGraphDestroy = bindOptional("cuGraphDestroy", JAVA_LONG);
        cuMemAllocHost = bindOptional("cuMemAllocHost_v2", ADDRESS, JAVA_LONG);
        cuMemFreeHost = bindOptional("cuMemFreeHost", ADDRESS);
        cuStreamWaitEvent = bindOptional("cuStreamWaitEvent", JAVA_LONG, JAVA_LONG, JAVA_INT);
    }

    private MethodHandle bindOptional(String name, java.lang.foreign.MemoryLayout... args) {
        return lib.find(name).map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(JAVA_INT, args))).orElse(null);
    }

    private static MethodHandle present(MethodHandle h, String name) {
        if (h == null) throw new UnsupportedOperationException("this CUDA driver has no " + name);
        return h;
    }

    /**
     * Binds libcuda.so.1 (then libcuda.so). Throws IllegalArgumentException when neither library can be
     * found, which is the normal case on a machine without an NVIDIA driver.
     */
    static CudaDriver load() {
        IllegalArgumentException first = null;
        for (String name : new String[] {"libcuda.so.1", "libcuda.so"}) {
            try {
                return new CudaDriver(SymbolLookup.libraryLookup(name, Arena.global()));
            } catch (IllegalArgumentException e) {
                if (first == null) first = e;
            }
        }
        throw first;
    }

    private MethodHandle bind(String name, java.lang.foreign.MemoryLayout... args) {
        MemorySegment symbol = lib.find(name)
                .orElseThrow(() -> new IllegalArgumentException("libcuda has no symbol " + name));
        return LINKER.downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, args));
    }

    private void check(String call, MethodHandle handle, Object... args) {
        int rc;
        try {
            rc = (int) handle.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(call + ": the downcall itself failed", t);
        }
        if (rc != 0) {
            throw new CudaException(call, rc, errorName(rc));
        }
    }

    String errorName(int code) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) cuGetErrorName.invokeExact(code, out);
            if (rc != 0) return "CUDA_ERROR_" + code;
            return out.get(ADDRESS, 0).reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "CUDA_ERROR_" + code;
        }
    }

    void init() {
        check("cuInit", cuInit, 0);
    }

    int driverVersion() {
        return intOut("cuDriverGetVersion", cuDriverGetVersion);
    }

    int deviceCount() {
        return intOut("cuDeviceGetCount", cuDeviceGetCount);
    }

    int device(int ordinal) {
        return intOut("cuDeviceGet", cuDeviceGet, ordinal);
    }

    String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            check("cuDeviceGetName", cuDeviceGetName, name, 256, device);
            return name.getString(0);
        }
    }

    int deviceAttribute(int attribute, int device) {
        return intOut("cuDeviceGetAttribute", cuDeviceGetAttribute, attribute, device);
    }

    long primaryContext(int device) {
        return longOut("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain, device);
    }

    void setCurrent(long context) {
        check("cuCtxSetCurrent", cuCtxSetCurrent, context);
    }

    void synchronize() {
        check("cuCtxSynchronize", cuCtxSynchronize);
    }

    long loadModule(byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(image.length + 1L, 16);
            data.copyFrom(MemorySegment.ofArray(image));
            return longOut("cuModuleLoadData", cuModuleLoadData, data);
        }
    }

    long function(long module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            return longOut("cuModuleGetFunction(" + name + ")", cuModuleGetFunction, module, arena.allocateFrom(name));
        }
    }

    void setFunctionAttribute(long function, int attribute, int value) {
        check("cuFuncSetAttribute", cuFuncSetAttribute, function, attribute, value);
    }

    /** Resident blocks per SM for {@code function} at this block size and dynamic shared memory. */
    int occupancy(long function, int blockSize, long dynamicShared) {
        return intOut("cuOccupancyMaxActiveBlocksPerMultiprocessor", cuOccupancyMaxActiveBlocksPerMultiprocessor,
                function, blockSize, dynamicShared);
    }

    long malloc(long bytes) {
        return longOut("cuMemAlloc", cuMemAlloc, Math.max(bytes, 4));
    }

    void free(long pointer) {
        check("cuMemFree", cuMemFree, pointer);
    }

    // The per-step calls (copies, graph launches) use invokeExact: no boxing or argument spreading.
    void copyToDevice(long dst, MemorySegment src, long bytes) {
        int rc;
        try {
            rc = (int) cuMemcpyHtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw new IllegalStateException("cuMemcpyHtoD: the downcall itself failed", t);
        }
        if (rc != 0) throw new CudaException("cuMemcpyHtoD", rc, errorName(rc));
    }

    void copyToHost(MemorySegment dst, long src, long bytes) {
        int rc;
        try {
            rc = (int) cuMemcpyDtoH.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw new IllegalStateException("cuMemcpyDtoH: the downcall itself failed", t);
        }
        if (rc != 0) throw new CudaException("cuMemcpyDtoH", rc, errorName(rc));
    }

    void fill32(long dst, int bits, long count) {
        check("cuMemsetD32", cuMemsetD32, dst, bits, count);
    }

    void launch(long function, int gridX, int gridY, int blockX, int sharedBytes, MemorySegment params) {
        launch(function, gridX, gridY, 1, blockX, sharedBytes, params);
    }

    void launch(long function, int gridX, int gridY, int gridZ, int blockX, int sharedBytes, MemorySegment params) {
        launch(function, gridX, gridY, gridZ, blockX, sharedBytes, 0L, params);
    }

    void launch(long function, int gridX, int gridY, int gridZ, int blockX, int sharedBytes, long stream,
                MemorySegment params) {
        check("cuLaunchKernel", cuLaunchKernel, function, gridX, gridY, gridZ, blockX, 1, 1, sharedBytes, stream,
                params, MemorySegment.NULL);
    }

    /** A blocking stream (flags 0): it synchronises with the legacy default stream the copies use. */
    long createStream() {
        return longOut("cuStreamCreate", present(cuStreamCreate, "cuStreamCreate"), 0);
    }

    void destroyStream(long stream) {
        check("cuStreamDestroy", present(cuStreamDestroy, "cuStreamDestroy_v2"), stream);
    }

    void synchronizeStream(long stream) {
        check("cuStreamSynchronize", present(cuStreamSynchronize, "cuStreamSynchronize"), stream);
    }

    void beginCapture(long stream) {
        check("cuStreamBeginCapture", present(cuStreamBeginCapture, "cuStreamBeginCapture_v2"), stream,
                CU_STREAM_CAPTURE_MODE_RELAXED);
    }

    /** Ends the capture: the captured graph. */
    long endCapture(long stream) {
        try (Arena arena = Arena.ofConfined()) {   // the out-parameter comes second here
            MemorySegment out = arena.allocate(JAVA_LONG);
            check("cuStreamEndCapture", present(cuStreamEndCapture, "cuStreamEndCapture"), stream, out);
            return out.get(JAVA_LONG, 0);
        }
    }

    long instantiateGraph(long graph) {
        return longOut("cuGraphInstantiateWithFlags",
                present(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags"), graph, 0L);
    }

    void launchGraph(long exec, long stream) {
        MethodHandle h = present(cuGraphLaunch, "cuGraphLaunch");
        int rc;
        try {
            rc = (int) h.invokeExact(exec, stream);
        } catch (Throwable t) {
            throw new IllegalStateException("cuGraphLaunch: the downcall itself failed", t);
        }
        if (rc != 0) throw new CudaException("cuGraphLaunch", rc, errorName(rc));
    }

    /** Makes {@code stream}'s later work wait for {@code event} (a fork or join inside a graph capture). */
    void waitEvent(long stream, long event) {
        check("cuStreamWaitEvent", cuStreamWaitEvent, stream, event, 0);
    }

    void destroyGraphExec(long exec) {
        check("cuGraphExecDestroy", present(cuGraphExecDestroy, "cuGraphExecDestroy"), exec);
    }

    void destroyGraph(long graph) {
        check("cuGraphDestroy", present(cuGraphDestroy, "cuGraphDestroy"), graph);
    }

    /** Page-locked host memory (fast, synchronous copies to and from it); free with {@link #freeHost}. */
    MemorySegment allocHost(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check("cuMemAllocHost", present(cuMemAllocHost, "cuMemAllocHost_v2"), out, bytes);
            return out.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    void freeHost(MemorySegment p) {
        check("cuMemFreeHost", present(cuMemFreeHost, "cuMemFreeHost"), p);
    }

    void recordOn(long event, long stream) {
        check("cuEventRecord", cuEventRecord, event, stream);
    }

    long createEvent() {
        return longOut("cuEventCreate", cuEventCreate, 0);
    }

    void record(long event) {
        check("cuEventRecord", cuEventRecord, event, 0L);
    }

    void synchronizeEvent(long event) {
        check("cuEventSynchronize", cuEventSynchronize, event);
    }

    float elapsedMillis(long start, long end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", cuEventElapsedTime, out, start, end);
            return out.get(JAVA_FLOAT, 0);
        }
    }

    void destroyEvent(long event) {
        check("cuEventDestroy", cuEventDestroy, event);
    }

    private int intOut(String call, MethodHandle handle, Object... rest) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(call, handle, prepend(out, rest));
            return out.get(JAVA_INT, 0);
        }
    }

    private long longOut(String call, MethodHandle handle, Object... rest) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(call, handle, prepend(out, rest));
            return out.get(JAVA_LONG, 0);
        }
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
