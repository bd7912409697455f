package io.sidewinder.ssm.kernels;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the kernel backend once per JVM (the pattern of Lucene's VectorizationProvider). Property
 * {@code -Dsidewinder.backend=auto|scalar|simd|cuda} (default auto: SIMD when jdk.incubator.vector is present;
 * cuda: the batch scan on the GPU, everything else on the auto choice, falling back to it without a GPU).
 * One INFO line names the backend; when SIMD is wanted but the module is missing, one WARNING names the flag.
 */
public final class Kernels {
    public static final String BACKEND_PROPERTY = "sidewinder.backend";
    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    private static final String SIMD_CLASS = "io.sidewinder.ssm.kernels.simd.VectorKernels";

    private static final class Holder {
        static final SsmKernels INSTANCE = select(System.getProperty(BACKEND_PROPERTY, "auto"));
    }

    private Kernels() {}

    /** The backend chosen for this JVM. */
    public static SsmKernels get() {
        return Holder.INSTANCE;
    }

    /** This JVM's backend with its batch scan spread over {@code threads} threads (see {@link ParallelKernels}). */
    public static SsmKernels parallel(int threads) {
        return new ParallelKernels(get(), threads);
    }

    /** The SIMD backend if this JVM can run it, else null (for tests and benchmarks comparing backends). */
    public static SsmKernels simdOrNull() {
        try {
            return (SsmKernels) Class.forName(SIMD_CLASS).getField("INSTANCE").get(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /**
     * A backend chosen by name for one user (e.g. {@code train --backend}) rather than for the whole JVM: auto,
     * scalar, simd or cuda, with the batch scan spread over {@code threads} threads when the CPU backend runs in
     * tiles (for cuda: the CPU ops and the shapes the GPU kernels lack). cuda without a GPU falls back to the auto
     * CPU backend with one WARNING, unless {@code requireGpu} (or {@code -Dsidewinder.cuda.require=true}): then it
     * throws an {@link IllegalStateException} naming why CUDA is unavailable.
     */
    public static SsmKernels create(String backend, int threads, boolean requireGpu) {
        return select(backend, threads, requireGpu);
    }

    static SsmKernels select(String wanted) {
        return select(wanted, 1, false);
    }

    private static SsmKernels withThreads(SsmKernels k, int threads) {
        return threads > 1 && k instanceof TiledScan ? new ParallelKernels(k, threads) : k;
    }

    private static SsmKernels select(String wanted, int threads, boolean requireGpu) {
        String w = wanted.trim().toLowerCase(Locale.ROOT);
        switch (w) {
            case "scalar" -> {
                LOG.info("kernel backend: scalar (forced by -D{}=scalar)", BACKEND_PROPERTY);
                return withThreads(ScalarKernels.INSTANCE, threads);
            }
            case "simd", "auto" -> {
                if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                    if (w.equals("simd")) {
                        throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=simd needs the JVM flag "
                                + "--add-modules jdk.incubator.vector");
                    }
                    LOG.warn("kernel backend: scalar — the Vector API is not enabled; start the JVM with "
                            + "--add-modules jdk.incubator.vector for the SIMD kernels");
                    return withThreads(ScalarKernels.INSTANCE, threads);
                }
                SsmKernels simd = simdOrNull();
                if (simd == null) {
                    throw new IllegalStateException("jdk.incubator.vector is present but " + SIMD_CLASS + " failed to load");
                }
                LOG.info("kernel backend: {}", simd.name());
                return withThreads(simd, threads);
            }
            case "cuda" -> {
                // The GPU runs the batch scan; the per-reading ops stay on the best CPU backend.
                SsmKernels cpu = select("auto", threads, false);
                var gpu = io.sidewinder.ssm.kernels.cuda.Cuda.runtime();  // throws if the GPU is required but absent
                if (gpu.isEmpty() && requireGpu) {
                    throw new IllegalStateException("the cuda backend was required but CUDA is unavailable: "
                            + io.sidewinder.ssm.kernels.cuda.Cuda.unavailableReason());
                }
                if (gpu.isEmpty()) {
                    LOG.warn("kernel backend: {} — -D{}=cuda but CUDA is unavailable ({}); set "
                            + "-Dsidewinder.cuda.require=true to fail instead", cpu.name(), BACKEND_PROPERTY,
                            io.sidewinder.ssm.kernels.cuda.Cuda.unavailableReason());
                    return cpu;
                }
                SsmKernels cuda = new io.sidewinder.ssm.kernels.cuda.CudaKernels(gpu.get(), cpu);
                LOG.info("kernel backend: {}", cuda.name());
                return cuda;
            }
            default -> throw new IllegalArgumentException("-D" + BACKEND_PROPERTY + "=" + wanted
                    + " is not one of auto, scalar, simd, cuda");
        }
    }
}
