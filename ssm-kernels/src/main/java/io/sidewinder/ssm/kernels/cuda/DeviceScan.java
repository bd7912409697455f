package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.Discretization;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A selective-scan batch resident on the GPU: inputs uploaded once, outputs and gradient buffers allocated once,
 * so that {@link #forward()} and {@link #backward(boolean)} launch kernels only (what the benchmark times).
 * Device layouts are the contract's (see {@link ScanBatch}); resets travel as bytes.
 */
public final class DeviceScan implements AutoCloseable {
    static final int THREADS = 128;
    /** Kernel family: the L-split kernels (one warp per channel, its lanes split L); N = 8, 16, 32. */
    public static final int L_SPLIT = 0;
    /**
     * Kernel family: the sequential kernels with 4 states per thread — the forward {@code sw_scan_fwd_*_p4} and the
     * backward {@code sw_scan_bwd2_*} (selective_scan_bwd2.cuh); N = 8, 16, 32, one walk over L.
     */
    public static final int BWD2 = 5;
    /**
     * Kernel family: the sequential kernels with 2 states per thread ({@code sw_scan_fwd_*_p2},
     * {@code sw_scan_bwd2_*_n16_p2}: twice the warps of {@link #BWD2}); N = 16 only.
     */
    public static final int BWD2_P2 = 6;
    // sw_scan_bwd2_*: tile and reduction round (bw2::T, bw2::RS in selective_scan_bwd2.cuh): keep in step.
    static final int BWD2_TILE = 16, BWD2_ROUND = 4;
    // The L-split kernels' shape and shared layouts (selective_scan_lsplit.cuh, namespace ls): keep in step.
    static final int LS_K = 8, LS_TL = 32 * LS_K, LS_W = 8, LS_THREADS = 32 * LS_W, LS_ROW = 33;
    static final int LS_SW = LS_K * LS_ROW + 4, LS_SN = LS_K * LS_ROW + 2, LS_MAXT = 4;
    static boolean isBwd2(int family) {
        return family == BWD2 || family == BWD2_P2;
    }

    /** States per thread of the sequential kernels a {@link #BWD2} / {@link #BWD2_P2} family runs. */
    static int bwd2StatesPerThread(int family) {
        return family == BWD2_P2 ? 2 : 4;
    }

    /** Name of the bwd2 kernel for a discretization (lower case), state size and states per thread. */
    static String bwd2Kernel(String disc, int n, int statesPerThread) {
        return "sw_scan_bwd2_" + disc + "_n" + n + (statesPerThread == 2 ? "_p2" : "");
    }

    /**
     * Dynamic shared memory of {@code sw_scan_bwd2_*}: s_red[2][RS][channels per block][2N] floats, then each
     * thread's states entering each tile of the chunk.
     */
    static int bwd2Shared(int n, int statesPerThread, int chunkLength) {
        int channelsPerBlock = THREADS / (n / statesPerThread);
        return 2 * 4 * BWD2_ROUND * channelsPerBlock * 2 * n
                + (chunkLength + BWD2_TILE - 1) / BWD2_TILE * THREADS * statesPerThread * 4;
    }

    /** Largest chunk whose tile-entry states fit bwd2's shared memory. */
    public static final int MAX_BACKWARD_CHUNK = 512;

    /** Longest chunk a family's backward takes stored states at: 512 for bwd2, 1024 (four tiles) for L-split. */
    static int maxBackwardChunk(int family) {
        return family == L_SPLIT ? LS_MAXT * LS_TL : MAX_BACKWARD_CHUNK;
    }

    private final CudaRuntime rt;
    private final ScanBatch shape;
    private final int chunkLength, chunks, family, channelsPerBlock, channelBlocks;
    private final String fwdKernel, bwdKernel;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    final DeviceBuffer u, deltaRaw, deltaBias, gap, a, b, c, d, z, resets;
    final DeviceBuffer h, y, chunkStates, dy;
    final DeviceBuffer du, dDeltaRaw, dz, db, dc, da, dd, dDeltaBias, dh0;
    private final DeviceBuffer dbPart, dcPart, daPart, ddPart, dBiasPart;
    private final int threads;

    /** Uploads {@code in}'s inputs; {@code chunkLength} is the interval of stored states (≤ {@link #MAX_BACKWARD_CHUNK} for the backward). */
    public DeviceScan(CudaRuntime rt, ScanBatch in, int chunkLength) {
        this(rt, in, chunkLength, BWD2);
    }

    /** States per thread of the fastest one-walk forward for state size n: 2 where it is built (N = 16), else 4. */
    static int forwardStatesPerThread(int n) {
        return n == 16 ? 2 : 4;
    }

    /**
     * {@code family}: the kernels of both directions. {@link #BWD2} (5): the sequential kernels, one GPU thread
     * owning 4 of a channel's N states and walking L; {@link #BWD2_P2} (6): the same with 2 states per thread
     * (N = 16: twice the threads, each with half the work); {@link #L_SPLIT} (0): the L-split kernels, where the 32
     * lanes of a warp split each 256-step tile of one channel's sequence and combine through a parallel scan.
     */
    public DeviceScan(CudaRuntime rt, ScanBatch in, int chunkLength, int family) {
        int n = in.stateSize();
        boolean built = ((family == L_SPLIT || family == BWD2) && (n == 8 || n == 16 || n == 32))
                || (family == BWD2_P2 && n == 16);
        if (!built) {
            throw new UnsupportedOperationException("the CUDA scan is built for state sizes 8, 16 and 32 (L-split and "
                    + "4 states per thread) and 16 (2 per thread), not N = " + n + " with kernel family " + family);
        }
        if (chunkLength < 1) {
            throw new IllegalArgumentException("chunkLength must be positive, got " + chunkLength);
        }
        this.rt = rt;
        this.shape = in;
        this.chunkLength = chunkLength;
        this.chunks = Math.max(1, (in.length() + chunkLength - 1) / chunkLength);
        this.family = family;
        String disc = in.discretization().name().toLowerCase(Locale.ROOT);
        if (family == L_SPLIT) {
            this.threads = LS_THREADS;
            this.channelsPerBlock = LS_W;
            this.fwdKernel = "sw_scan_ls_fwd_" + disc + "_n" + n;
            this.bwdKernel = "sw_scan_ls_bwd_" + disc + "_n" + n;
        } else {
            int npt = bwd2StatesPerThread(family);
            this.threads = THREADS;
            this.channelsPerBlock = THREADS / (n / npt);
            this.fwdKernel = "sw_scan_fwd_" + disc + "_n" + n + "_p" + npt;
            this.bwdKernel = bwd2Kernel(disc, n, npt);
        }
        this.channelBlocks = (in.channels() + channelsPerBlock - 1) / channelsPerBlock;
        rt.bind();
        try {
        long bld = (long) in.batch() * in.length() * in.channels(), bln = (long) in.batch() * in.length() * n;
        long bl = (long) in.batch() * in.length(), bdn = (long) in.batch() * in.channels() * n;
        u = upload(in.u(), bld);
        deltaRaw = upload(in.deltaRaw(), bld);
        deltaBias = in.deltaBias() == null ? null : upload(in.deltaBias(), in.channels());
        gap = in.gap() == null ? null : upload(in.gap(), bl);
        a = upload(in.a(), (long) in.channels() * n);
        b = upload(in.b(), bln);
        c = upload(in.c(), bln);
        d = in.d() == null ? null : upload(in.d(), in.channels());
        z = in.z() == null ? null : upload(in.z(), bld);
        if (in.resets() == null) {
            resets = null;
        } else {
            byte[] flags = new byte[(int) bl];
            for (int i = 0; i < flags.length; i++) flags[i] = (byte) (in.resets()[i] ? 1 : 0);
            resets = alloc(bl);
            resets.upload(flags);
        }
        h = alloc(bdn * 4);
        y = alloc(bld * 4);
        chunkStates = alloc((long) chunks * bdn * 4);
        dy = alloc(bld * 4);
        du = alloc(bld * 4);
        dDeltaRaw = alloc(bld * 4);
        dz = in.z() == null ? null : alloc(bld * 4);
        db = alloc(bln * 4);
        dc = alloc(bln * 4);
        da = alloc((long) in.channels() * n * 4);
        dd = alloc(in.channels() * 4L);
        dDeltaBias = alloc(in.channels() * 4L);
        dh0 = alloc(bdn * 4);
        dbPart = alloc(bln * channelBlocks * 4);
        dcPart = alloc(bln * channelBlocks * 4);
        daPart = alloc(bdn * 4);
        ddPart = alloc((long) in.batch() * in.channels() * 4);
        dBiasPart = alloc((long) in.batch() * in.channels() * 4);
        } catch (RuntimeException | Error e) {
            // out of device memory part way: free what was allocated, or every failed call would leak it
            for (DeviceBuffer buf : owned) {
                try {
                    buf.close();
                } catch (RuntimeException closing) {
                    e.addSuppressed(closing);
                }
            }
            owned.clear();
            throw e;
        }
    }

    private DeviceBuffer alloc(long bytes) {
        DeviceBuffer buf = rt.allocate(bytes);
        owned.add(buf);
        return buf;
    }

    private DeviceBuffer upload(float[] src, long count) {
        DeviceBuffer buf = alloc(count * 4);
        float[] exact = src.length == count ? src : java.util.Arrays.copyOf(src, (int) count);
        buf.upload(exact);
        return buf;
    }

    /** Longest chunk the backward takes stored states at: 512, or 1024 for the L-split kernels. */
    public int maxBackwardChunk() {
        return maxBackwardChunk(family);
    }

    public int chunkLength() {
        return chunkLength;
    }

    public int chunks() {
        return chunks;
    }

    /**
     * Launches the forward: h (holding h0) becomes the final state, y and the chunk-entry states are written.
     * Asynchronous; {@link CudaRuntime#synchronize()} or a download waits for it.
     */
    public void forward() {
        int dynamicShared = 0;
        if (family == L_SPLIT) {
            int n = shape.stateSize();
            dynamicShared = 4 * (3 * LS_W * LS_SW + 2 * n * LS_SN + LS_TL + 3 * LS_W * n);
            rt.allowDynamicShared(fwdKernel, dynamicShared);
        }
        new KernelLaunch().i32(shape.length()).i32(shape.channels()).pointer(u).pointer(deltaRaw)
                .pointer(deltaBias).i32(shape.deltaSoftplus() ? 1 : 0).pointer(gap).pointer(a).pointer(b).pointer(c)
                .pointer(d).pointer(z).pointer(resets).i32(chunkLength).pointer(h).pointer(y).pointer(chunkStates)
                .launch(rt, fwdKernel, channelBlocks, shape.batch(), 1, threads, dynamicShared);
    }

    /**
     * Launches the backward from {@link #chunkStates} and {@link #dy}: writes du, dΔ_raw, dz, dh0 and the summed
     * dB, dC, dA, dD, dΔ_bias. Deterministic: per-block partial sums reduced in a fixed order by two more
     * kernels; otherwise float atomics into zeroed buffers (faster, order-dependent rounding).
     */
    public void backward(boolean deterministic) {
        if (chunkLength > maxBackwardChunk()) {
            throw new UnsupportedOperationException("the CUDA backward needs chunk states every "
                    + maxBackwardChunk() + " steps or fewer, these are every " + chunkLength);
        }
        int n = shape.stateSize();
        int dynamicShared = (int) backwardShared();
        // Static plus dynamic shared memory above 48 KiB needs the opt-in attribute, set once per size.
        rt.allowDynamicShared(bwdKernel, dynamicShared);
        if (!deterministic) {
            db.fill(0f);
            dc.fill(0f);
            da.fill(0f);
            dd.fill(0f);
            dDeltaBias.fill(0f);
        }
        backwardArgs(deterministic).launch(rt, bwdKernel, channelBlocks, shape.batch(), 1, threads, dynamicShared);
        if (deterministic) {
            long perBatch = (long) shape.length() * shape.stateSize();
            reduceBlocks(dbPart, perBatch, db);
            reduceBlocks(dcPart, perBatch, dc);
            reduceParts(daPart, (long) shape.channels() * shape.stateSize(), da);
            reduceParts(ddPart, shape.channels(), dd);
            reduceParts(dBiasPart, shape.channels(), dDeltaBias);
        }
    }

    private KernelLaunch backwardArgs(boolean deterministic) {
        return new KernelLaunch().i32(shape.length()).i32(shape.channels()).pointer(u).pointer(deltaRaw)
                .pointer(deltaBias).i32(shape.deltaSoftplus() ? 1 : 0).pointer(gap).pointer(a).pointer(b).pointer(c)
                .pointer(d).pointer(z).pointer(resets).i32(chunkLength).pointer(chunkStates).pointer(dy).pointer(du)
                .pointer(dDeltaRaw).pointer(dz)
                .pointer(deterministic ? dbPart : db).pointer(deterministic ? dcPart : dc)
                .pointer(deterministic ? daPart : da).pointer(deterministic ? ddPart : dd)
                .pointer(deterministic ? dBiasPart : dDeltaBias).pointer(dh0).i32(deterministic ? 1 : 0);
    }

    /** Dynamic shared memory of the backward kernel at this shape and chunk length. */
    private long backwardShared() {
        int n = shape.stateSize();
        if (family == L_SPLIT) {
            return 4L * (3 * LS_W * LS_SW + 2 * n * LS_SN + 4 * LS_W * LS_TL + LS_TL + LS_W * LS_MAXT * n + 4 * LS_W * n
                    + LS_W * LS_W);
        }
        return bwd2Shared(n, bwd2StatesPerThread(family), chunkLength);
    }

    /** "forward B blocks/SM, backward B blocks/SM" at this shape's block size and shared memory (after a launch). */
    public String occupancy() {
        int n = shape.stateSize();
        long fwdShared = family == L_SPLIT ? 4L * (3 * LS_W * LS_SW + 2 * n * LS_SN + LS_TL + 3 * LS_W * n) : 0;
        long bwdShared = backwardShared();
        return "blocks of " + threads + " threads per SM: forward "
                + rt.driver().occupancy(rt.function(fwdKernel), threads, fwdShared) + " ("
                + fwdShared / 1024 + " KiB shared), backward "
                + rt.driver().occupancy(rt.function(bwdKernel), threads, bwdShared) + " (" + bwdShared / 1024 + " KiB)";
    }

    private void reduceBlocks(DeviceBuffer part, long perBatch, DeviceBuffer out) {
        long total = perBatch * shape.batch();
        new KernelLaunch().pointer(part).i32(shape.batch()).i32(channelBlocks).i64(perBatch).pointer(out)
                .launch(rt, "sw_reduce_blocks", gridFor(total), 1, 256, 0);
    }

    private void reduceParts(DeviceBuffer part, long count, DeviceBuffer out) {
        new KernelLaunch().pointer(part).i32(shape.batch()).i64(count).pointer(out)
                .launch(rt, "sw_reduce_parts", gridFor(count), 1, 256, 0);
    }

    private static int gridFor(long count) {
        return (int) Math.max(1, Math.min(4096, (count + 255) / 256));
    }

    ScanBatch shape() {
        return shape;
    }

    Discretization discretization() {
        return shape.discretization();
    }

    @Override
    public void close() {
        rt.bind();
        RuntimeException first = null;
        for (DeviceBuffer buf : owned) {   // each on its own: one failed free must not keep the others
            try {
                buf.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        owned.clear();
        if (first != null) throw first;
    }
}
