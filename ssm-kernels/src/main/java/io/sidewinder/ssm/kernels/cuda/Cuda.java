package io.sidewinder.ssm.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the GPU once per JVM. Soft by default: without libcuda, without a device or without the fatbin (a build
 * without nvcc) it logs one line and {@link #runtime()} is empty, so callers use the CPU backends.
 * {@code -Dsidewinder.cuda.require=true} turns that into an {@link IllegalStateException} naming the reason.
 */
public final class Cuda {
    public static final String REQUIRE_PROPERTY = "sidewinder.cuda.require";
    static final String FATBIN_RESOURCE = "sidewinder-kernels.fatbin";
    /** The training step's kernels (train_step.cu), loaded on first use by {@link CudaRuntime}. */
    static final String TRAIN_FATBIN_RESOURCE = "sidewinder-train.fatbin";
    private static final Logger LOG = LoggerFactory.getLogger(Cuda.class);

    private Cuda() {}

    private static final class Holder {
        static final Probe PROBE = probe();
    }

    private record Probe(CudaRuntime runtime, String unavailableReason) {}

    /** The GPU runtime, or empty when this JVM has none (see {@link #unavailableReason()}). */
    public static Optional<CudaRuntime> runtime() {
        Probe p = Holder.PROBE;
        if (p.runtime == null && Boolean.getBoolean(REQUIRE_PROPERTY)) {
            throw new IllegalStateException("-D" + REQUIRE_PROPERTY + "=true but CUDA is unavailable: "
                    + p.unavailableReason);
        }
        return Optional.ofNullable(p.runtime);
    }

    public static boolean available() {
        return Holder.PROBE.runtime != null;
    }

    /** Why CUDA is unavailable, or null when it is available. */
    public static String unavailableReason() {
        return Holder.PROBE.unavailableReason;
    }

    private static Probe probe() {
        CudaDriver driver;
        try {
            driver = CudaDriver.load();
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            return unavailable("no CUDA driver library (libcuda.so.1): " + e.getMessage());
        }
        try {
            driver.init();
            if (driver.deviceCount() == 0) {
                return unavailable("the CUDA driver reports no device");
            }
            byte[] fatbin = readFatbin();
            if (fatbin == null) {
                return unavailable("the jar has no " + FATBIN_RESOURCE + " (built without nvcc)");
            }
            CudaRuntime runtime = CudaRuntime.open(driver, 0, fatbin);
            LOG.info("CUDA backend: {}", runtime.description());
            return new Probe(runtime, null);
        } catch (CudaException e) {
            return unavailable(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            // e.g. native access refused, an unexpected driver symbol: the CPU backends serve, never a crash
            return unavailable(e.toString());
        }
    }

    private static Probe unavailable(String reason) {
        LOG.info("CUDA backend unavailable, using the CPU backends: {}", reason);
        return new Probe(null, reason);
    }

    private static byte[] readFatbin() {
        return readResource(FATBIN_RESOURCE);
    }

    static byte[] readResource(String name) {
        try (InputStream in = Cuda.class.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }
}
