package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The whole model's fp32 forward and backward over a batch of equal-length sequences, resident on the GPU: the
 * trainer's {@code Fp32Backprop} (same formulas, parameter names and tape) with parameters, activations, tape and
 * gradients in device memory. Per step the host uploads the inputs once ({@link #forward}: embedded inputs and gap
 * ratios), downloads the head outputs, uploads ∂L/∂head ({@link #backward}) and downloads every gradient tensor in
 * one copy. Everything between is two CUDA graphs (forward: 16 kernels, backward: 25), captured once per instance,
 * so a step costs two graph launches and four copies of host work. In the backward graph the weight-gradient GEMMs
 * run on a second stream, off the critical path of the chain dHead → dResid.
 *
 * <p>The kernels: {@code train_step.cu} (a strided tiled GEMM for every projection and its backward products, the
 * weight gradients split over rows with atomics; RMSNorm; conv + SiLU; x_proj + dt_proj; their backward fused with
 * SiLU'; conv backward) and the selective scan's own ({@code sw_scan_fwd_*_p2} for N = 16, else {@code _p4}, {@code sw_scan_bwd2_*}, atomics
 * mode). Gradients are those of one step (zeroed at the start of each backward, not accumulated across calls);
 * float atomics make their last bits order-dependent. Sequences start from a zero state and an empty conv window.
 * Not thread-safe; one instance per (batch, length) shape.
 */
public final class CudaTrainStep implements AutoCloseable {
    /** Interval of the scan's stored chunk states: Fp32Backprop's. */
    public static final int CHUNK = 64;
    private static final int ALIGN = 64;        // floats: every arena slice starts 256-byte aligned
    private static final int SPLIT_ROWS = 64;   // rows per block of the weight-gradient GEMMs
    private static final int CONV_TILE = 8;     // steps per thread of the conv backward
    private static final int ROWS_PER_BLOCK = 16;   // train_step.cu kRowsPerBlock

    private final CudaRuntime rt;
    private final ModelConfig c;
    private final int batch, len, rows, layers, dm, di, n, r, proj, in, hw, k;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final Map<String, long[]> slices = new LinkedHashMap<>(); // name -> {offset, size} in the arenas
    private final long paramFloats;
    private final DeviceBuffer params, zeroed, aNeg;
    private final long gradFloats, zeroedFloats;
    private final long[] scanDb, scanDc, scanDa;
    // forward tape
    private final DeviceBuffer inputs, head, features, rstdF, hState;
    private final long e, gaps;   // slices of inputs: [rows][inputWidth] embedded inputs, then [rows] gap ratios
    private java.lang.foreign.MemorySegment pinned;   // page-locked staging of every per-step copy (null until made)
    private final DeviceBuffer[] resid, rstd, normed, xz, xc, xs, z, dtRaw, bm, cm, dtIn, y, chunkStates;
    // backward scratch (shared by the layers)
    private final DeviceBuffer dHead, dFeat, dY, du, dz, dh0, dXc, dNormed;
    // per layer (dResid: per layer boundary), so that the weight-gradient GEMMs on the side stream read values no
    // later kernel of the step overwrites
    private final DeviceBuffer[] dResid, dDeltaRaw, dDbc, dXz;
    private final String scanFwd, scanBwd;
    private final int fwdVariant, bwdVariant, chunk, fwdThreads, bwdThreads, fwdBlocks, bwdBlocks, fwdShared, bwdShared;
    private final int xprojFwdShared, xprojBwdShared;
    private long stream, side;     // side: the weight-gradient GEMMs, forked off and joined in the graph (0 until made)
    private long[] forkEvents = new long[0];
    private int forkNext;
    private long fwdGraph, fwdExec, bwdGraph, bwdExec;
    private final boolean useGraphs;
    private final float[] gradHost, eHost, headHost;
    private final Map<String, float[]> grads = new LinkedHashMap<>();

    /** Uploads {@code source}'s parameters; buffers for batches of {@code batch} sequences of {@code length} steps. */
    public CudaTrainStep(CudaRuntime rt, ModelParameters source, int batch, int length) {
        this(rt, source, batch, length, true);
    }

    /** {@code useGraphs}: false launches the kernels one by one each step (for comparison and debugging). */
    public CudaTrainStep(CudaRuntime rt, ModelParameters source, int batch, int length, boolean useGraphs) {
        this(rt, source, batch, length, useGraphs, DEFAULT_FORWARD, DEFAULT_BACKWARD);
    }

    /** The scan kernels the step uses by default: see {@link #CudaTrainStep(CudaRuntime, ModelParameters, int, int, boolean, int, int)}. */
    public static final int DEFAULT_FORWARD = DeviceScan.L_SPLIT, DEFAULT_BACKWARD = DeviceScan.L_SPLIT;

    /**
     * {@code forwardScan}, {@code backwardScan}: the scan kernel family per direction, {@link DeviceScan#BWD2} (the
     * sequential forward, the bwd2 backward: one thread walks L, 16 blocks at this model's batch 8; for the backward
     * also {@link DeviceScan#BWD2_P2}, bwd2 with 2 states per thread, d_state 16) or
     * {@link DeviceScan#L_SPLIT} (a warp's lanes split 256-step tiles of one channel: 64 blocks of 8 warps). The
     * chunk of stored states is {@link #CHUNK} for bwd2 and one L-split tile (256) when the backward is L-split.
     */
    public CudaTrainStep(CudaRuntime rt, ModelParameters source, int batch, int length, boolean useGraphs,
                         int forwardScan, int backwardScan) {
        this.rt = rt;
        this.c = source.config();
        this.batch = batch;
        this.len = length;
        this.rows = batch * length;
        this.layers = c.layers();
        this.dm = c.dModel();
        this.di = c.dInner();
        this.n = c.dState();
        this.r = c.dtRank();
        this.proj = r + 2 * n;
        this.in = c.inputWidth();
        this.hw = c.headWidth();
        this.k = c.dConv();
        this.useGraphs = useGraphs;
        if (!supports(c)) {
            throw new UnsupportedOperationException("the training-step kernels take N = 8, 16, 32, d_model ≤ 128, "
                    + "d_conv ≤ 8 and d_inner ≤ 1024");
        }
        long off = 0;
        for (Parameter p : source.all()) {
            slices.put(p.name(), new long[] {off, p.size()});
            off = align(off + p.size());
        }
        paramFloats = off;
        gradFloats = off;
        scanDb = new long[layers];
        scanDc = new long[layers];
        scanDa = new long[layers];
        for (int l = 0; l < layers; l++) {
            scanDb[l] = off;
            off = align(off + (long) rows * n);
            scanDc[l] = off;
            off = align(off + (long) rows * n);
            scanDa[l] = off;
            off = align(off + (long) di * n);
        }
        if ((forwardScan != DeviceScan.BWD2 && forwardScan != DeviceScan.L_SPLIT)
                || (!DeviceScan.isBwd2(backwardScan) && backwardScan != DeviceScan.L_SPLIT)) {
            throw new IllegalArgumentException("scan kernels: DeviceScan.BWD2 or DeviceScan.L_SPLIT forward, "
                    + "DeviceScan.BWD2, BWD2_P2 or L_SPLIT backward");
        }
        if (backwardScan == DeviceScan.BWD2_P2 && c.dState() != 16) {
            throw new IllegalArgumentException("DeviceScan.BWD2_P2 is built for d_state 16, not " + c.dState());
        }
        this.fwdVariant = forwardScan;
        this.bwdVariant = backwardScan;
        this.chunk = backwardScan == DeviceScan.L_SPLIT ? DeviceScan.LS_TL : CHUNK;
        String disc = c.discretization().name().toLowerCase(Locale.ROOT);
        int lsW = DeviceScan.LS_W, lsSW = DeviceScan.LS_SW, lsSN = DeviceScan.LS_SN, lsTL = DeviceScan.LS_TL;
        if (forwardScan == DeviceScan.L_SPLIT) {
            scanFwd = "sw_scan_ls_fwd_" + disc + "_n" + n;
            fwdThreads = DeviceScan.LS_THREADS;
            fwdBlocks = (di + lsW - 1) / lsW;
            fwdShared = 4 * (3 * lsW * lsSW + 2 * n * lsSN + lsTL + 3 * lsW * n);
        } else {
            int npt = DeviceScan.forwardStatesPerThread(n);
            int fwdPerBlock = DeviceScan.THREADS / (n / npt);
            scanFwd = "sw_scan_fwd_" + disc + "_n" + n + "_p" + npt;
            fwdThreads = DeviceScan.THREADS;
            fwdBlocks = (di + fwdPerBlock - 1) / fwdPerBlock;
            fwdShared = 0;
        }
        if (backwardScan == DeviceScan.L_SPLIT) {
            scanBwd = "sw_scan_ls_bwd_" + disc + "_n" + n;
            bwdThreads = DeviceScan.LS_THREADS;
            bwdBlocks = (di + lsW - 1) / lsW;
            bwdShared = 4 * (3 * lsW * lsSW + 2 * n * lsSN + 4 * lsW * lsTL + lsTL + lsW * DeviceScan.LS_MAXT * n
                    + 4 * lsW * n + lsW * lsW);
        } else {
            int npt = DeviceScan.bwd2StatesPerThread(backwardScan);
            int bwdPerBlock = DeviceScan.THREADS / (n / npt);
            scanBwd = DeviceScan.bwd2Kernel(disc, n, npt);
            bwdThreads = DeviceScan.THREADS;
            bwdBlocks = (di + bwdPerBlock - 1) / bwdPerBlock;
            bwdShared = DeviceScan.bwd2Shared(n, npt, chunk);
        }
        xprojFwdShared = 4 * (proj * (di + 1) + di * r + ROWS_PER_BLOCK * di + ROWS_PER_BLOCK * proj);
        xprojBwdShared = 4 * (proj * di + di * r + ROWS_PER_BLOCK * di + ROWS_PER_BLOCK * proj);
        // Refuse a shape this GPU cannot run before allocating anything (the caller falls back to per-call scans).
        int most = Math.max(Math.max(fwdShared, bwdShared), Math.max(xprojFwdShared, xprojBwdShared));
        if (most > rt.maxSharedOptIn()) {
            throw new IllegalArgumentException("this model shape needs " + most + " bytes of shared memory per block, "
                    + "the GPU allows " + rt.maxSharedOptIn());
        }
        zeroedFloats = off;
        try {
        rt.bind();
        params = alloc(paramFloats);
        zeroed = alloc(zeroedFloats);
        aNeg = alloc((long) layers * di * n);
        long gapsOff = align((long) rows * in);
        inputs = alloc(gapsOff + rows);
        e = inputs.pointer();
        gaps = inputs.pointer() + gapsOff * 4;
        head = alloc((long) rows * hw);
        features = alloc((long) rows * dm);
        rstdF = alloc(rows);
        int chunks = (length + chunk - 1) / chunk;
        hState = alloc((long) layers * batch * di * n);
        resid = new DeviceBuffer[layers + 1];
        for (int l = 0; l <= layers; l++) resid[l] = alloc((long) rows * dm);
        rstd = allocs(rows);
        normed = allocs((long) rows * dm);
        xz = allocs((long) rows * 2 * di);
        xc = allocs((long) rows * di);
        xs = allocs((long) rows * di);
        z = allocs((long) rows * di);
        dtRaw = allocs((long) rows * r);
        bm = allocs((long) rows * n);
        cm = allocs((long) rows * n);
        dtIn = allocs((long) rows * di);
        y = allocs((long) rows * di);
        chunkStates = allocs((long) batch * chunks * di * n);
        dHead = alloc((long) rows * hw);
        dFeat = alloc((long) rows * dm);
        dResid = new DeviceBuffer[layers + 1];
        for (int l = 0; l <= layers; l++) dResid[l] = alloc((long) rows * dm);
        dY = alloc((long) rows * di);
        du = alloc((long) rows * di);
        dDeltaRaw = allocs((long) rows * di);
        dz = alloc((long) rows * di);
        dh0 = alloc((long) batch * di * n);
        dDbc = allocs((long) rows * proj);
        dXc = alloc((long) rows * di);
        dXz = allocs((long) rows * 2 * di);
        dNormed = alloc((long) rows * dm);

        // Resolve every kernel (and load the training fatbin) before any graph capture starts.
        for (String name : new String[] {scanFwd, "sw_ts_gemm", "sw_ts_rmsnorm_fwd", "sw_ts_rmsnorm_bwd",
                "sw_ts_conv_fwd", "sw_ts_conv_bwd", "sw_ts_xproj_fwd", "sw_ts_xproj_bwd", "sw_ts_zero", "sw_ts_spin"}) {
            rt.function(name);
        }
        for (String kernel : new String[] {scanFwd, scanBwd, "sw_ts_xproj_fwd", "sw_ts_xproj_bwd"}) {
            int bytes = kernel.equals(scanFwd) ? fwdShared : kernel.equals(scanBwd) ? bwdShared
                    : kernel.equals("sw_ts_xproj_fwd") ? xprojFwdShared : xprojBwdShared;
            if (bytes == 0 || kernel.startsWith("sw_ts_") && bytes <= 48 * 1024) continue;   // no opt-in needed
            rt.allowDynamicShared(kernel, bytes);
        }

        gradHost = new float[(int) gradFloats];
        eHost = new float[(int) gapsOff + rows];
        headHost = new float[rows * hw];
        for (Parameter p : source.all()) grads.put(p.name(), new float[p.size()]);
        stream = useGraphs ? rt.driver().createStream() : 0L;
        side = useGraphs ? rt.driver().createStream() : 0L;
        forkEvents = new long[useGraphs ? 4 * layers + 4 : 0];
        for (int i = 0; i < forkEvents.length; i++) forkEvents[i] = rt.driver().createEvent();
        pinned = rt.driver().allocHost(4L * Math.max(Math.max(eHost.length, rows * hw), gradFloats));
        setParameters(source);
        } catch (RuntimeException | Error e) {
            release(e);   // what was made so far would otherwise stay allocated on the GPU
            throw e;
        }
    }

    /** Whether the step's kernels are built for this model shape (N 8, 16, 32; d_model ≤ 128; d_conv ≤ 8; d_inner ≤ 1024). */
    public static boolean supports(ModelConfig c) {
        int n = c.dState();
        return (n == 8 || n == 16 || n == 32) && c.dModel() <= 128 && c.dConv() <= 8 && c.dInner() <= 1024;
    }

    /** Sequences per step and their length: the shape this instance was built for. */
    public int batch() {
        return batch;
    }

    public int length() {
        return len;
    }

    private static long align(long floats) {
        return (floats + ALIGN - 1) / ALIGN * ALIGN;
    }

    private DeviceBuffer alloc(long floats) {
        DeviceBuffer b = rt.allocate(Math.max(1, floats) * 4);
        owned.add(b);
        return b;
    }

    private DeviceBuffer[] allocs(long floats) {
        DeviceBuffer[] out = new DeviceBuffer[layers];
        for (int l = 0; l < layers; l++) out[l] = alloc(floats);
        return out;
    }

    /** Uploads new parameter values (same config and names), e.g. after an optimizer step on the host. */
    public void setParameters(ModelParameters source) {
        requireOpen();
        rt.bind();
        float[] host = new float[(int) paramFloats];
        for (Parameter p : source.all()) {
            long[] s = slice(p.name());
            System.arraycopy(p.data(), 0, host, (int) s[0], p.size());
        }
        params.upload(host);
        float[] a = new float[layers * di * n];
        for (int l = 0; l < layers; l++) {
            float[] aLog = source.data("layers." + l + ".A_log");
            for (int i = 0; i < di * n; i++) a[l * di * n + i] = -(float) Math.exp(aLog[i]); // as Fp32Backprop
        }
        aNeg.upload(a);
    }

    private long[] slice(String name) {
        long[] s = slices.get(name);
        if (s == null) throw new IllegalArgumentException("no parameter " + name);
        return s;
    }

    private long p(String name) {
        return params.pointer() + slice(name)[0] * 4;
    }

    private long g(String name) {
        return zeroed.pointer() + slice(name)[0] * 4;
    }

    private long aNeg(int l) {
        return aNeg.pointer() + (long) l * di * n * 4;
    }

    /** Gradients of the last {@link #backward}, by parameter name (arrays reused across steps). */
    public Map<String, float[]> gradients() {
        return grads;
    }

    /**
     * Forward over x [batch][L][channels] (normalised) with gap ratios [batch][L]; returns the head outputs
     * [batch][L][headWidth] (an array reused across calls). The tape stays on the device for {@link #backward}.
     */
    public float[] forward(float[] x, float[] gapRatios) {
        requireOpen();
        int ch = c.channels();
        if (x.length != rows * ch || gapRatios.length != rows) {
            throw new IllegalArgumentException("x needs " + rows * ch + " and gaps " + rows + " entries");
        }
        for (int t = 0; t < rows; t++) {
            System.arraycopy(x, t * ch, eHost, t * in, ch);
            eHost[t * in + ch] = GapScaling.logGapFeature(gapRatios[t]);
        }
        System.arraycopy(gapRatios, 0, eHost, (int) ((gaps - e) / 4), rows);
        rt.bind();
        upload(inputs, eHost, eHost.length);
        if (useGraphs) {
            if (fwdExec == 0) {
                rt.driver().beginCapture(stream);
                try {
                    launchForward();
                } catch (RuntimeException e) {
                    abandonCapture(e);
                    throw e;
                }
                fwdGraph = rt.driver().endCapture(stream);
                fwdExec = rt.driver().instantiateGraph(fwdGraph);
            }
            rt.driver().launchGraph(fwdExec, stream);
        } else {
            launchForward();
        }
        download(head, headHost, headHost.length);   // legacy-stream copy: waits for the blocking stream's work
        return headHost;
    }

    /** Backpropagates dHead [batch][L][headWidth] from the last forward; the result is {@link #gradients()}. */
    public void backward(float[] dHeadValues) {
        requireOpen();
        if (dHeadValues.length != rows * hw) {
            throw new IllegalArgumentException("dHead needs " + rows * hw + " entries");
        }
        rt.bind();
        upload(dHead, dHeadValues, dHeadValues.length);
        if (useGraphs) {
            if (bwdExec == 0) {
                rt.driver().beginCapture(stream);
                capturing = true;
                forkNext = 0;
                try {
                    launchBackward();
                } catch (RuntimeException e) {
                    abandonCapture(e);
                    throw e;
                } finally {
                    capturing = false;
                }
                bwdGraph = rt.driver().endCapture(stream);
                bwdExec = rt.driver().instantiateGraph(bwdGraph);
            }
            rt.driver().launchGraph(bwdExec, stream);
        } else {
            launchBackward();
        }
        download(zeroed, gradHost, gradHost.length);   // the gradient tensors are the arena's first gradFloats floats
        for (Map.Entry<String, float[]> en : grads.entrySet()) {
            long[] s = slices.get(en.getKey());
            System.arraycopy(gradHost, (int) s[0], en.getValue(), 0, (int) s[1]);
        }
    }

    /** Synchronous copies through the page-locked staging buffer (on the legacy stream, ordered with the graphs). */
    private void upload(DeviceBuffer dst, float[] src, int count) {
        java.lang.foreign.MemorySegment.copy(src, 0, pinned, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, count);
        rt.driver().copyToDevice(dst.pointer(), pinned, count * 4L);
    }

    private void download(DeviceBuffer src, float[] dst, int count) {
        rt.driver().copyToHost(pinned, src.pointer(), count * 4L);
        java.lang.foreign.MemorySegment.copy(pinned, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, dst, 0, count);
    }

    private KernelLaunch kl() {
        return new KernelLaunch().stream(stream).hooks(profileBefore, profileAfter);
    }

    /** Lets the side stream's next work start after everything launched on the main stream so far (graphs only). */
    private void fork() {
        if (!capturing) return;
        long ev = forkEvents[forkNext++];
        rt.driver().recordOn(ev, stream);
        rt.driver().waitEvent(side, ev);
    }

    /** Makes the main stream wait for everything on the side stream (graphs only). */
    private void join() {
        if (!capturing) return;
        long ev = forkEvents[forkNext++];
        rt.driver().recordOn(ev, side);
        rt.driver().waitEvent(stream, ev);
    }

    private boolean capturing;

    private java.util.function.Consumer<String> profileBefore, profileAfter;

    /**
     * GPU microseconds per step of each kernel (by name, summed over the layers), averaged over {@code steps}
     * forward + backward passes launched one by one behind a spinning kernel, with an event pair around each launch:
     * the kernels' own time, without the host's launch latency (but also without the graph's overlap of one kernel's
     * tail with the next one's start). Run forward and backward once first.
     */
    public Map<String, Double> profile(int steps) {
        requireOpen();   // it launches on the step's buffers
        rt.bind();
        Map<String, Double> micros = new LinkedHashMap<>();
        CudaDriver drv = rt.driver();
        for (int s = 0; s < steps; s++) {
            List<long[]> pairs = new ArrayList<>();
            List<String> names = new ArrayList<>();
            long[] current = new long[2];
            profileBefore = name -> {
                current[0] = drv.createEvent();
                drv.recordOn(current[0], stream);
            };
            profileAfter = name -> {
                long end = drv.createEvent();
                drv.recordOn(end, stream);
                pairs.add(new long[] {current[0], end});
                names.add(name);
            };
            try {
                new KernelLaunch().stream(stream).i64(5_000_000L).launch(rt, "sw_ts_spin", 1, 1, 1, 0);
                launchForward();
                launchBackward();
            } finally {
                profileBefore = null;
                profileAfter = null;
            }
            drv.synchronizeEvent(pairs.get(pairs.size() - 1)[1]);
            for (int i = 0; i < pairs.size(); i++) {
                float ms = drv.elapsedMillis(pairs.get(i)[0], pairs.get(i)[1]);
                micros.merge(names.get(i), ms * 1000.0 / steps, Double::sum);
                drv.destroyEvent(pairs.get(i)[0]);
                drv.destroyEvent(pairs.get(i)[1]);
            }
        }
        return micros;
    }

    // ------------------------------------------------------------------------------------------------- forward

    private void launchForward() {
        float eps = (float) c.normEps();
        zero(hState.pointer(), (long) layers * batch * di * n);
        // resid = e·Wᵀ + b
        linear(e, in, p("embed.weight"), p("embed.bias"), 0, resid[0].pointer(), dm);
        for (int l = 0; l < layers; l++) {
            String pre = "layers." + l + ".";
            rmsNormForward(resid[l].pointer(), p(pre + "norm.weight"), eps, normed[l].pointer(), rstd[l].pointer());
            linear(normed[l].pointer(), dm, p(pre + "in_proj.weight"), 0, 0, xz[l].pointer(), 2 * di);
            long total = (long) rows * di;
            kl().i32(batch).i32(len).i32(di).i32(k).pointer(xz[l]).pointer(p(pre + "conv.weight"))
                    .pointer(p(pre + "conv.bias")).pointer(xc[l]).pointer(xs[l]).pointer(z[l])
                    .launch(rt, "sw_ts_conv_fwd", (int) ((total + 255) / 256), 1, 256, 0);
            int shared = xprojFwdShared;
            kl().i32(rows).i32(di).i32(r).i32(n).pointer(xs[l]).pointer(p(pre + "x_proj.weight"))
                    .pointer(p(pre + "dt_proj.weight")).pointer(dtRaw[l]).pointer(bm[l]).pointer(cm[l]).pointer(dtIn[l])
                    .launch(rt, "sw_ts_xproj_fwd", (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, 1, 128, shared);
            long h = hState.pointer() + (long) l * batch * di * n * 4;
            kl().i32(len).i32(di).pointer(xs[l]).pointer(dtIn[l]).pointer(p(pre + "dt_proj.bias")).i32(1)
                    .pointer(gaps).pointer(aNeg(l)).pointer(bm[l]).pointer(cm[l]).pointer(p(pre + "D")).pointer(z[l])
                    .pointer(0L).i32(chunk).pointer(h).pointer(y[l]).pointer(chunkStates[l])
                    .launch(rt, scanFwd, fwdBlocks, batch, 1, fwdThreads, fwdShared);
            // resid_{l+1} = y·W_outᵀ + resid_l
            linear(y[l].pointer(), di, p(pre + "out_proj.weight"), 0, resid[l].pointer(), resid[l + 1].pointer(), dm);
        }
        rmsNormForward(resid[layers].pointer(), p("norm_f.weight"), eps, features.pointer(), rstdF.pointer());
        linear(features.pointer(), dm, p("head.weight"), p("head.bias"), 0, head.pointer(), hw);
    }

    /** out [rows][outW] = x [rows][inW]·Wᵀ (W [outW][inW]) + bias + addend (each optional: 0). */
    private void linear(long x, int inW, long w, long bias, long addend, long out, int outW) {
        gemm(rows, outW, inW, x, inW, 1, w, 1, inW, bias, addend, out, outW, 0, 0);
    }

    private void gemm(int m, int nn, int kk, long a, long sai, long sak, long b, long sbk, long sbj, long bias,
                      long addend, long out, int ldc, int mode, long rowsum) {
        int splits = 1, kPer = Math.max(1, kk);
        if (mode == 2) {
            kPer = SPLIT_ROWS;
            splits = (kk + kPer - 1) / kPer;
        }
        KernelLaunch launch = mode == 2 && capturing ? kl().stream(side) : kl();
        launch.i32(m).i32(nn).i32(kk).pointer(a).i64(sai).i64(sak).pointer(b).i64(sbk).i64(sbj).pointer(bias)
                .pointer(addend).pointer(out).i32(ldc).i32(mode).i32(kPer).pointer(rowsum)
                .launch(rt, "sw_ts_gemm", (nn + 31) / 32, (m + 31) / 32, splits, 256, 0);
    }

    /** dW [outW][inW] += dYᵀ·X over all rows (dY [rows][outW], X [rows][inW]); dBias [outW] += Σ dY (0: none). */
    private void weightGrad(long dy, int outW, long x, int inW, long dw, long dBias) {
        gemm(outW, inW, rows, dy, 1, outW, x, inW, 1, 0, 0, dw, inW, 2, dBias);
    }

    /** dX [rows][inW] = dY [rows][outW]·W (W [outW][inW]). */
    private void inputGrad(long dy, int outW, long w, int inW, long dx) {
        gemm(rows, inW, outW, dy, outW, 1, w, inW, 1, 0, 0, dx, inW, 0, 0);
    }

    private void rmsNormForward(long x, long w, float eps, long out, long rstdOut) {
        kl().i32(rows).i32(dm).pointer(x).pointer(w).f32(eps).pointer(out).pointer(rstdOut)
                .launch(rt, "sw_ts_rmsnorm_fwd", (rows + 7) / 8, 1, 256, 0);
    }

    private void zero(long ptr, long count) {
        kl().pointer(ptr).i64(count).launch(rt, "sw_ts_zero", (int) Math.min(1024, (count + 255) / 256), 1, 256, 0);
    }

    // ------------------------------------------------------------------------------------------------ backward

    private void launchBackward() {
        zero(zeroed.pointer(), zeroedFloats);
        // weightGrad (the GEMMs that only add into gradient tensors) runs on the side stream inside the graph:
        // fork() before each, one join() at the end.
        fork();
        weightGrad(dHead.pointer(), hw, features.pointer(), dm, g("head.weight"), g("head.bias"));
        inputGrad(dHead.pointer(), hw, p("head.weight"), dm, dFeat.pointer());
        rmsNormBackward(resid[layers].pointer(), p("norm_f.weight"), rstdF.pointer(), dFeat.pointer(), 0,
                dResid[layers].pointer(), g("norm_f.weight"));
        for (int l = layers - 1; l >= 0; l--) {
            layerBackward(l);
        }
        fork();
        weightGrad(dResid[0].pointer(), dm, e, in, g("embed.weight"), g("embed.bias"));
        join();
    }

    /** dResid[l + 1] holds ∂L/∂resid_out; dResid[l] gets ∂L/∂resid_in (the residual passes it through). */
    private void layerBackward(int l) {
        String pre = "layers." + l + ".";
        long dOut = dResid[l + 1].pointer();
        inputGrad(dOut, dm, p(pre + "out_proj.weight"), di, dY.pointer());
        fork();
        weightGrad(dOut, dm, y[l].pointer(), di, g(pre + "out_proj.weight"), 0);
        long db = zeroed.pointer() + scanDb[l] * 4, dc = zeroed.pointer() + scanDc[l] * 4;
        long da = zeroed.pointer() + scanDa[l] * 4;
        kl().i32(len).i32(di).pointer(xs[l]).pointer(dtIn[l]).pointer(p(pre + "dt_proj.bias")).i32(1).pointer(gaps)
                .pointer(aNeg(l)).pointer(bm[l]).pointer(cm[l]).pointer(p(pre + "D")).pointer(z[l]).pointer(0L)
                .i32(chunk).pointer(chunkStates[l]).pointer(dY).pointer(du).pointer(dDeltaRaw[l]).pointer(dz)
                .pointer(db).pointer(dc).pointer(da).pointer(g(pre + "D")).pointer(g(pre + "dt_proj.bias"))
                .pointer(dh0).i32(0)
                .launch(rt, scanBwd, bwdBlocks, batch, 1, bwdThreads, bwdShared);
        int shared = xprojBwdShared;
        kl().i32(rows).i32(di).i32(r).i32(n).pointer(dDeltaRaw[l]).pointer(db).pointer(dc).pointer(du)
                .pointer(p(pre + "x_proj.weight")).pointer(p(pre + "dt_proj.weight")).pointer(xc[l]).pointer(dDbc[l])
                .pointer(dXc)
                .launch(rt, "sw_ts_xproj_bwd", (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, 1, 128, shared);
        fork();
        weightGrad(dDeltaRaw[l].pointer(), di, dtRaw[l].pointer(), r, g(pre + "dt_proj.weight"), 0);
        weightGrad(dDbc[l].pointer(), proj, xs[l].pointer(), di, g(pre + "x_proj.weight"), 0);
        int threads = (di + 31) / 32 * 32;
        kl().i32(batch).i32(len).i32(di).i32(k).i32(CONV_TILE).pointer(xz[l]).pointer(p(pre + "conv.weight"))
                .pointer(dXc).pointer(dz).pointer(dXz[l]).pointer(g(pre + "conv.weight")).pointer(g(pre + "conv.bias"))
                .pointer(da).pointer(aNeg(l)).pointer(g(pre + "A_log")).i32(di * n)
                .launch(rt, "sw_ts_conv_bwd", (len + CONV_TILE - 1) / CONV_TILE, batch, threads, 0);
        fork();
        weightGrad(dXz[l].pointer(), 2 * di, normed[l].pointer(), dm, g(pre + "in_proj.weight"), 0);
        inputGrad(dXz[l].pointer(), 2 * di, p(pre + "in_proj.weight"), dm, dNormed.pointer());
        rmsNormBackward(resid[l].pointer(), p(pre + "norm.weight"), rstd[l].pointer(), dNormed.pointer(), dOut,
                dResid[l].pointer(), g(pre + "norm.weight"));
    }

    /** dxOut = (dxIn, 0: none) + the RMSNorm backward of dy; dw += its weight gradient. */
    private void rmsNormBackward(long x, long w, long rstdIn, long dy, long dxIn, long dxOut, long dw) {
        kl().i32(rows).i32(dm).pointer(x).pointer(w).pointer(rstdIn).pointer(dy).pointer(dxIn).pointer(dxOut)
                .pointer(dw).launch(rt, "sw_ts_rmsnorm_bwd", Math.max(1, Math.min(64, rows / 32)), 1, 256, 0);
    }

    /**
     * GPU milliseconds per step of the kernels alone: {@code steps} forward + backward launches on the current
     * inputs (after one {@link #forward}/{@link #backward}), no copies, timed with events; for the benchmark.
     */
    public float deviceMillisPerStep(int steps) {
        requireOpen();
        if (useGraphs && (fwdExec == 0 || bwdExec == 0)) {
            throw new IllegalStateException("run forward and backward once first (the graphs are captured there)");
        }
        rt.bind();
        long start = rt.driver().createEvent(), end = rt.driver().createEvent();
        try {
            rt.driver().recordOn(start, stream);
            for (int i = 0; i < steps; i++) {
                if (useGraphs) {
                    rt.driver().launchGraph(fwdExec, stream);
                    rt.driver().launchGraph(bwdExec, stream);
                } else {
                    launchForward();
                    launchBackward();
                }
            }
            rt.driver().recordOn(end, stream);
            rt.driver().synchronizeEvent(end);
            return rt.driver().elapsedMillis(start, end) / steps;
        } finally {
            rt.driver().destroyEvent(start);
            rt.driver().destroyEvent(end);
        }
    }

    /** "forward K + backward K kernels, graphs on/off". */
    public String describe() {
        return String.format("batch %d x L %d, d_model %d, d_inner %d, N %d, %d layers, %s; scan %s / %s, chunk %d; "
                        + "graphs %s", batch, len, dm, di, n, layers, c.discretization(), scanFwd, scanBwd, chunk,
                useGraphs ? "on" : "off");
    }

    private boolean closed;

    /** Whether {@link #close} has run: the step's device memory, graphs, streams and staging are released. */
    public boolean isClosed() {
        return closed;
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("CudaTrainStep is closed");
    }

    /** Releases the graphs, streams, events, page-locked staging and device memory; idempotent. */
    @Override
    public void close() {
        if (closed) return;
        release(null);
    }

    /**
     * Releases everything made so far, each resource on its own so that one failure does not keep the rest; the
     * failures are added to {@code cause} when given, else the first is thrown with the others suppressed.
     */
    private void release(Throwable cause) {
        closed = true;
        List<Runnable> steps = new ArrayList<>();
        steps.add(rt::bind);
        long fe = fwdExec, fg = fwdGraph, be = bwdExec, bg = bwdGraph;
        fwdExec = fwdGraph = bwdExec = bwdGraph = 0;
        if (fe != 0) steps.add(() -> rt.driver().destroyGraphExec(fe));
        if (fg != 0) steps.add(() -> rt.driver().destroyGraph(fg));
        if (be != 0) steps.add(() -> rt.driver().destroyGraphExec(be));
        if (bg != 0) steps.add(() -> rt.driver().destroyGraph(bg));
        long st = stream, sd = side;
        stream = side = 0;
        if (st != 0) steps.add(() -> rt.driver().destroyStream(st));
        if (sd != 0) steps.add(() -> rt.driver().destroyStream(sd));
        for (long ev : forkEvents) if (ev != 0) steps.add(() -> rt.driver().destroyEvent(ev));
        forkEvents = new long[0];
        var host = pinned;
        pinned = null;
        if (host != null) steps.add(() -> rt.driver().freeHost(host));
        for (DeviceBuffer b : owned) steps.add(b::close);
        owned.clear();
        RuntimeException first = null;
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (RuntimeException e) {
                if (cause != null) cause.addSuppressed(e);
                else if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    /** Ends a capture a failed launch interrupted, so the stream (and the legacy stream) work again. */
    private void abandonCapture(RuntimeException cause) {
        try {
            long graph = rt.driver().endCapture(stream);
            if (graph != 0) rt.driver().destroyGraph(graph);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}
