package io.sidewinder.ssm.kernels.cuda;

import java.util.HashMap;
import java.util.Map;

/**
 * One device's primary context and the loaded kernel module. Thread-safe to share: every entry point makes the
 * context current on the calling thread first ({@link #bind()}), as the driver API keeps it per thread.
 */
public final class CudaRuntime {
    private final CudaDriver driver;
    private final long context;
    private final long module;
    private final String description;
    private final int maxSharedOptIn;
    private final Map<String, Long> functions = new HashMap<>();

    private CudaRuntime(CudaDriver driver, long context, long module, String description, int maxSharedOptIn) {
        this.driver = driver;
        this.context = context;
        this.module = module;
        this.description = description;
        this.maxSharedOptIn = maxSharedOptIn;
    }

    static CudaRuntime open(CudaDriver driver, int ordinal, byte[] fatbin) {
        int device = driver.device(ordinal);
        long context = driver.primaryContext(device);
        driver.setCurrent(context);
        long t0 = System.nanoTime();
        long module = driver.loadModule(fatbin);
        double loadMs = (System.nanoTime() - t0) / 1e6;
        int major = driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        int minor = driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        int sms = driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        int smem = driver.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
        String description = String.format("%s, sm_%d%d, %d SMs, driver API %d, fatbin loaded in %.1f ms",
                driver.deviceName(device), major, minor, sms, driver.driverVersion(), loadMs);
        return new CudaRuntime(driver, context, module, description, smem);
    }

    public String description() {
        return description;
    }

    /** Makes this runtime's context current on the calling thread. */
    public void bind() {
        driver.setCurrent(context);
    }

    public void synchronize() {
        bind();
        driver.synchronize();
    }

    CudaDriver driver() {
        return driver;
    }

    int maxSharedOptIn() {
        return maxSharedOptIn;
    }

    private long trainModule;

    /** A kernel of the main fatbin, or of the training step's ({@code sw_ts_*}, loaded on first use). */
    synchronized long function(String name) {
        Long f = functions.get(name);
        if (f == null) {
            bind();   // loading the training module and looking a function up need the context on this thread
            f = driver.function(name.startsWith("sw_ts_") ? trainModule() : module, name);
            functions.put(name, f);
        }
        return f;
    }

    private long trainModule() {
        if (trainModule == 0) {
            byte[] image = Cuda.readResource(Cuda.TRAIN_FATBIN_RESOURCE);
            if (image == null) {
                throw new IllegalStateException("the jar has no " + Cuda.TRAIN_FATBIN_RESOURCE + " (built without nvcc)");
            }
            trainModule = driver.loadModule(image);
        }
        return trainModule;
    }

    public DeviceBuffer allocate(long bytes) {
        return new DeviceBuffer(driver, context, bytes);
    }

    private final java.util.Map<Long, Integer> dynamicShared = new java.util.HashMap<>();

    /**
     * Lets {@code kernel} launch with {@code bytes} of dynamic shared memory (and the largest shared carveout). The
     * driver keeps this attribute per function for the whole process, so it only ever grows here: two users of one
     * kernel with different needs must not lower it under each other's launches.
     */
    synchronized void allowDynamicShared(String kernel, int bytes) {
        long f = function(kernel);
        Integer set = dynamicShared.get(f);
        if (set != null && set >= bytes) {
            return;
        }
        bind();
        driver.setFunctionAttribute(f, CudaDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        driver.setFunctionAttribute(f, CudaDriver.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 100);
        dynamicShared.put(f, bytes);
    }

    /** Times {@code work} on the GPU with events: milliseconds from before its first launch to after its last. */
    public float timeMillis(Runnable work) {
        bind();
        long start = driver.createEvent(), end = driver.createEvent();
        try {
            driver.record(start);
            work.run();
            driver.record(end);
            driver.synchronizeEvent(end);
            return driver.elapsedMillis(start, end);
        } finally {
            driver.destroyEvent(start);
            driver.destroyEvent(end);
        }
    }
}
