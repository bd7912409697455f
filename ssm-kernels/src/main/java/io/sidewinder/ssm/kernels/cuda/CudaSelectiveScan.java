package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.ScanBatch;

/**
 * The scan contract on Java arrays, for parity and integration: each call uploads, runs and downloads. For
 * timing the kernels alone use {@link DeviceScan} directly.
 */
public final class CudaSelectiveScan {
    /** The chunk the backward recomputes states at when the caller's chunk states cannot be used. */
    public static final int DEFAULT_CHUNK = 128;
    /** Headroom for the bwd2 kernels' static shared memory beside the dynamic part (a few KiB). */
    private static final int BWD2_STATIC_SHARED = 8 * 1024;

    private final CudaRuntime rt;
    private final int family;

    /** {@code family} value: pick the fastest measured kernel family per direction (see {@link #forwardVariant}). */
    public static final int AUTO = -1;

    /** Picks per direction and discretization ({@link #AUTO}). */
    public CudaSelectiveScan(CudaRuntime rt) {
        this(rt, AUTO);
    }

    /**
     * The forward kernel family: the sequential one, one walk over L, with {@link DeviceScan#forwardStatesPerThread}
     * states per thread (2 for N = 16, else 4). Since the 64-step vector-staged tiles (bench/results/CUDA-SCAN.md,
     * 2026-12-07, H100) 2/thread is the faster at every measured shape: ZOH 210 µs vs 221 µs for 4/thread at the
     * issue's shape, and 1.2-1.9× at small shapes where 4/thread leaves most of the GPU idle. Before that (run 10,
     * H200): 4/thread 269 µs, 2/thread 314 µs, L-split 583 µs, segmented ≥ 368 µs (ZOH).
     */
    static int forwardVariant(ScanBatch in) {
        return DeviceScan.forwardStatesPerThread(in.stateSize()) == 2 ? DeviceScan.BWD2_P2 : DeviceScan.BWD2;
    }

    /**
     * The backward kernel family: the rewritten sequential backward (bench/results/CUDA-SCAN.md, run 11, N = 16,
     * chunk 256: ZOH 1132 µs vs 1553 µs L-split; EULER 993 µs vs 1259 µs for 2/thread; BILINEAR, N = 8 and 32 with
     * resets at a small shape: 1.3-1.7× faster than 4/thread), with 2 states per thread ({@link DeviceScan#BWD2_P2})
     * for N = 16 and 4 ({@link DeviceScan#BWD2}) otherwise. 2/thread against 4/thread at the shape
     * (2026-12-07, H100, bench/results/2026-12-07-h100-bwd-p2/): ZOH 979 vs 1077 µs, BILINEAR 1214 vs 1288 µs,
     * EULER 1010 vs 1029 µs (another H100 that day: 1001 vs 945); 1.2-1.5× faster at small shapes, where the
     * 4/thread grid leaves SMs idle.
     */
    static int backwardVariant(ScanBatch in) {
        return in.stateSize() == 16 ? DeviceScan.BWD2_P2 : DeviceScan.BWD2;
    }

    /** {@code family}: {@link #AUTO} or a kernel family of {@link DeviceScan#DeviceScan(CudaRuntime, ScanBatch, int, int)}. */
    public CudaSelectiveScan(CudaRuntime rt, int family) {
        this.rt = rt;
        this.family = family;
    }

    /**
     * h: h0 in, final state out ([batch][channels][stateSize]); y [batch][length][channels]; chunkStates
     * [batch][ceil(L/chunk)][channels][stateSize], the state entering each chunk, or null.
     */
    public void forward(ScanBatch in, float[] h, float[] y, float[] chunkStates, int chunkLength) {
        int variant = family == AUTO ? forwardVariant(in) : family;
        try (DeviceScan scan = new DeviceScan(rt, in, chunkLength, variant)) {
            scan.h.upload(h);
            scan.forward();
            scan.h.download(h);
            scan.y.download(y);
            if (chunkStates != null) {
                download(scan.chunkStates, chunkStates, (long) scan.chunks() * in.batch() * in.channels() * in.stateSize());
            }
        }
    }

    /**
     * Gradients of Σ dy·y, accumulated into {@code out}. Uses the caller's chunk states when their interval fits
     * the backward kernel, else recomputes them on the GPU from h0 (null: zeros, as the contract says).
     */
    public void backward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                         ScanGradients out, boolean deterministic) {
        int variant = family == AUTO ? backwardVariant(in) : family;
        int maxChunk = DeviceScan.maxBackwardChunk(variant);
        // Long chunks keep more tile states in shared memory than GPUs with ~100 KiB per block allow (sm_86/89):
        // there the states are recomputed at the default chunk instead of reused.
        boolean fits = variant == DeviceScan.L_SPLIT || DeviceScan.bwd2Shared(in.stateSize(),
                DeviceScan.bwd2StatesPerThread(variant), chunkLength) + BWD2_STATIC_SHARED <= rt.maxSharedOptIn();
        boolean reuse = chunkStates != null && chunkLength <= maxChunk && fits;
        int recompute = variant == DeviceScan.L_SPLIT ? 256 : DEFAULT_CHUNK;   // 256: one L-split tile
        try (DeviceScan scan = new DeviceScan(rt, in, reuse ? chunkLength : recompute, variant)) {
            long states = (long) scan.chunks() * in.batch() * in.channels() * in.stateSize();
            if (reuse) {
                scan.chunkStates.upload(java.util.Arrays.copyOf(chunkStates, (int) states));
            } else {
                scan.h.upload(h0 != null ? h0 : new float[in.stateLength()]);  // the contract's null: zeros
                scan.forward();
            }
            scan.dy.upload(dy);
            scan.backward(deterministic);
            int bld = in.batch() * in.length() * in.channels(), bln = in.batch() * in.length() * in.stateSize();
            addInto(scan.du, out.du(), bld);
            addInto(scan.dDeltaRaw, out.dDeltaRaw(), bld);
            if (in.z() != null && out.dz() != null) addInto(scan.dz, out.dz(), bld);
            addInto(scan.db, out.db(), bln);
            addInto(scan.dc, out.dc(), bln);
            addInto(scan.da, out.da(), in.channels() * in.stateSize());
            if (out.dd() != null) addInto(scan.dd, out.dd(), in.channels());
            if (out.dDeltaBias() != null) addInto(scan.dDeltaBias, out.dDeltaBias(), in.channels());
            addInto(scan.dh0, out.dh0(), in.batch() * in.channels() * in.stateSize());
        }
    }

    private static void download(DeviceBuffer src, float[] dst, long count) {
        float[] tmp = new float[(int) count];
        src.download(tmp);
        System.arraycopy(tmp, 0, dst, 0, tmp.length);
    }

    private static void addInto(DeviceBuffer src, float[] dst, int count) {
        float[] tmp = new float[count];
        src.download(tmp);
        for (int i = 0; i < count; i++) dst[i] += tmp[i];
    }
}
