package io.sidewinder.ssm;

import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanTiling;
import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.ssm.kernels.TiledScan;
import java.util.concurrent.ForkJoinPool;

/**
 * A stack of Mamba blocks with an input embedding and a Gaussian forecasting head, in fp32.
 *
 * <pre>
 *   r_0   = W_e·[x_t, log τ_t] + b_e                         (channel values plus the log-gap feature)
 *   r_l+1 = r_l + Mixer_l(RMSNorm_l(r_l))                     (pre-norm residual, kept in fp32)
 *   out_t = W_h·RMSNorm_f(r_L) + b_h = [mean(H×C), log-variance(H×C)]
 *   Mixer: x, z = in_proj·v;  x = SiLU(causal depthwise conv(x) + bias);  dt_raw, B, C = x_proj·x;
 *          Δ = softplus(W_dt·dt_raw + b_dt)·τ_t;  y = scan(x, Δ, A = −exp(A_log), B, C) + D·x;
 *          y = y·SiLU(z);  out_proj·y
 * </pre>
 * Two forms: {@link #forward} over a whole sequence (the kernels' batch scan, its channel tiles on the common pool
 * when parallel; what the trainer runs) and
 * {@link #step} for one reading (what the stream runs). Both start from and leave a {@link ModelState}.
 * <p>An ensemble ({@link ModelConfig#members()} K &gt; 1) runs each member's stack on its own layers of the state
 * and returns the mean of the members' head outputs.
 */
public final class MambaModel {
    private final ModelConfig config;
    private final ModelParameters params;
    private final float[] embedW, embedB, normF, headW, headB, embedWT, headWT;
    private final Block[] blocks;
    private final ThreadLocal<StepWorkspace> workspaces;
    private final ThreadLocal<BatchWorkspace> batchWorkspaces = ThreadLocal.withInitial(BatchWorkspace::new);
    private final SsmKernels kernels;
    private final MambaModel[] members; // an ensemble's members as single models; null for a single model

    /**
     * One block's weights, with A = −exp(A_log) precomputed in fp32, and the projections transposed for the
     * streaming step ({@link SsmKernels#matVecTransposed}: vector lanes over output rows, no horizontal sums).
     */
    private record Block(float[] norm, float[] inProj, float[] convW, float[] convB, float[] xProj,
                         float[] dtW, float[] dtB, float[] a, float[] d, float[] outProj,
                         float[] inProjT, float[] xProjT, float[] dtWT, float[] outProjT) {}

    public MambaModel(ModelParameters params) {
        this(params, Kernels.get());
    }

    /** A model on a given kernel backend (tests and benchmarks compare backends this way). */
    public MambaModel(ModelParameters params, SsmKernels kernels) {
        this.kernels = kernels;
        this.params = params;
        this.config = params.config();
        embedW = params.data("embed.weight");
        embedB = params.data("embed.bias");
        normF = params.data("norm_f.weight");
        headW = params.data("head.weight");
        headB = params.data("head.bias");
        blocks = new Block[config.layers()];
        for (int l = 0; l < blocks.length; l++) {
            String p = "layers." + l + ".";
            float[] aLog = params.data(p + "A_log");
            float[] a = new float[aLog.length];
            for (int i = 0; i < a.length; i++) {
                a[i] = -(float) Math.exp(aLog[i]);
            }
            int dm = config.dModel(), di = config.dInner(), n = config.dState(), r = config.dtRank();
            float[] inProj = params.data(p + "in_proj.weight"), xProj = params.data(p + "x_proj.weight");
            float[] dtW = params.data(p + "dt_proj.weight"), outProj = params.data(p + "out_proj.weight");
            blocks[l] = new Block(params.data(p + "norm.weight"), inProj,
                    params.data(p + "conv.weight"), params.data(p + "conv.bias"), xProj,
                    dtW, params.data(p + "dt_proj.bias"), a, params.data(p + "D"), outProj,
                    transpose(inProj, 2 * di, dm), transpose(xProj, r + 2 * n, di), transpose(dtW, di, r),
                    transpose(outProj, dm, di));
        }
        embedWT = transpose(embedW, config.dModel(), config.inputWidth());
        headWT = transpose(headW, config.headWidth(), config.dModel());
        workspaces = ThreadLocal.withInitial(() -> new StepWorkspace(config));
        if (config.members() > 1) {
            members = new MambaModel[config.members()];
            for (int k = 0; k < members.length; k++) members[k] = new MambaModel(params.member(k), kernels);
        } else {
            members = null;
        }
    }

    /** [rows][cols] → [cols][rows]. */
    private static float[] transpose(float[] w, int rows, int cols) {
        float[] t = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                t[k * rows + r] = w[r * cols + k];
            }
        }
        return t;
    }

    public ModelConfig config() {
        return config;
    }

    public SsmKernels kernels() {
        return kernels;
    }

    public ModelParameters parameters() {
        return params;
    }

    /** Ensemble member k as a single model over its own stack; a single model's only member (k = 0) is itself. */
    public MambaModel member(int k) {
        if (members == null) {
            if (k != 0) throw new IllegalArgumentException("member " + k + " of a single model");
            return this;
        }
        return members[k];
    }

    /**
     * Sequence forward. {@code x} is [L][channels] (normalised values), {@code gapRatios} is τ_t/τ_ref per step.
     * Advances {@code state} to the end of the sequence and returns the head outputs, [L][headWidth].
     */
    public float[] forward(float[] x, float[] gapRatios, int length, ModelState state, boolean parallelScan) {
        if (members != null) {
            float[] mean = null;
            for (int k = 0; k < members.length; k++) {
                float[] out = members[k].forward(x, gapRatios, length, state.member(k, config.layers()), parallelScan);
                mean = accumulateMean(mean, out, k, out.length);
            }
            return mean;
        }
        float[] features = features(x, gapRatios, length, state, parallelScan);
        return linear(headW, headB, config.headWidth(), config.dModel(), features, length);
    }

    /**
     * The sequence forward up to the head's input: RMSNorm_f of the residual stream, [L][dModel]. Used by
     * {@link #forward} and by head-only fitting in the trainer.
     */
    public float[] features(float[] x, float[] gapRatios, int length, ModelState state, boolean parallelScan) {
        if (members != null) {
            throw new UnsupportedOperationException("an ensemble of " + members.length + " members has no single "
                    + "feature stream; take a member's (parameters().member(k))");
        }
        ModelConfig c = config;
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank(), k = c.dConv();
        int in = c.inputWidth();
        if (x.length < length * c.channels() || gapRatios.length < length) {
            throw new IllegalArgumentException("x needs [" + length + "][" + c.channels() + "] and gaps [" + length + "]");
        }
        float[] e = new float[length * in];
        for (int t = 0; t < length; t++) {
            System.arraycopy(x, t * c.channels(), e, t * in, c.channels());
            e[t * in + c.channels()] = GapScaling.logGapFeature(gapRatios[t]);
        }
        float[] gaps = gapRatios.length == length ? gapRatios : java.util.Arrays.copyOf(gapRatios, length);
        float[] resid = linear(embedW, embedB, dm, in, e, length);
        float[] normed = new float[length * dm];
        float eps = (float) c.normEps();
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            kernels.rmsNormForward(length, dm, resid, b.norm(), eps, normed, null);
            float[] xz = linear(b.inProj(), null, 2 * di, dm, normed, length);
            float[] xin = new float[length * di], z = new float[length * di], xs = new float[length * di];
            for (int t = 0; t < length; t++) {
                System.arraycopy(xz, t * 2 * di, xin, t * di, di);
                System.arraycopy(xz, t * 2 * di + di, z, t * di, di);
            }
            float[] window = state.conv[l];
            kernels.causalConvForward(1, length, di, k, xin, window, b.convW(), b.convB(), xs);
            kernels.siluInPlace(xs, 0, xs.length);
            shiftWindow(window, xin, length, di, k);
            float[] dbc = linear(b.xProj(), null, r + 2 * n, di, xs, length);
            float[] dtRaw = new float[length * r], bm = new float[length * n], cm = new float[length * n];
            for (int t = 0; t < length; t++) {
                int row = t * (r + 2 * n);
                System.arraycopy(dbc, row, dtRaw, t * r, r);
                System.arraycopy(dbc, row + r, bm, t * n, n);
                System.arraycopy(dbc, row + r + n, cm, t * n, n);
            }
            float[] dtIn = linear(b.dtW(), null, di, r, dtRaw, length);
            // Δ = softplus(W_dt·dt_raw + b_dt)·τ is fused into the kernel's scan.
            ScanBatch scan = new ScanBatch(1, length, di, n, xs, dtIn, b.dtB(), true, gaps, b.a(), bm, cm, b.d(), z,
                    null, c.discretization());
            float[] y = new float[length * di];
            if (parallelScan && kernels instanceof TiledScan tiles) {
                ScanTiling.forward(tiles, scan, state.h[l], y, null, SelectiveScan.DEFAULT_CHUNK, ForkJoinPool.commonPool());
            } else {
                kernels.scanForward(scan, state.h[l], y, null, SelectiveScan.DEFAULT_CHUNK);
            }
            // resid += y·out_projᵀ
            kernels.gemm(false, true, length, dm, di, y, b.outProj(), null, resid, true);
        }
        kernels.rmsNormForward(length, dm, resid, normF, eps, normed, null);
        return normed;
    }

    /**
     * The running mean of member outputs over their first {@code length} values: {@code out} itself for member 0,
     * else mean += (out − mean)/(k + 1).
     */
    private static float[] accumulateMean(float[] mean, float[] out, int k, int length) {
        if (k == 0) return out;
        float w = 1f / (k + 1);
        for (int i = 0; i < length; i++) mean[i] += (out[i] - mean[i]) * w;
        return mean;
    }

    /** A linear layer over rows: [rows][in] → [rows][out] = x·Wᵀ (+ bias), one GEMM. */
    private float[] linear(float[] w, float[] bias, int out, int in, float[] x, int rows) {
        float[] y = new float[rows * out];
        kernels.gemm(false, true, rows, out, in, x, w, bias, y, false);
        return y;
    }

    /** The window after a sequence: the last d_conv − 1 conv inputs, reaching back into the old window. */
    private static void shiftWindow(float[] window, float[] xin, int length, int di, int k) {
        int keep = k - 1;
        float[] next = new float[keep * di];
        for (int j = 0; j < keep; j++) {
            int src = length - keep + j;
            if (src >= 0) {
                System.arraycopy(xin, src * di, next, j * di, di);
            } else {
                System.arraycopy(window, (src + keep) * di, next, j * di, di);
            }
        }
        System.arraycopy(next, 0, window, 0, next.length);
    }

    /**
     * One step for one reading: {@code x} holds the normalised channel values, {@code gapRatio} τ/τ_ref since
     * the previous reading. Advances {@code state}; writes the head output ([headWidth]) into {@code head}.
     */
    public void step(float[] x, float gapRatio, ModelState state, float[] head) {
        ModelConfig c = config;
        StepWorkspace w = workspaces.get();
        if (members != null) {
            for (int k = 0; k < members.length; k++) {
                members[k].step(x, gapRatio, state.member(k, c.layers()), k == 0 ? head : w.memberHead);
                accumulateMean(head, w.memberHead, k, c.headWidth());
            }
            return;
        }
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank(), k = c.dConv();
        System.arraycopy(x, 0, w.e, 0, c.channels());
        w.e[c.channels()] = GapScaling.logGapFeature(gapRatio);
        kernels.matVecTransposed(embedWT, embedB, dm, c.inputWidth(), w.e, 0, w.resid, 0);
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            Linalg.rmsNormRow(w.resid, 0, dm, b.norm(), (float) c.normEps(), w.normed, 0);
            kernels.matVecTransposed(b.inProjT(), null, 2 * di, dm, w.normed, 0, w.xz, 0);
            float[] window = state.conv[l];
            for (int d = 0; d < di; d++) {
                float s = b.convB()[d];
                for (int j = 0; j < k - 1; j++) {
                    s += b.convW()[d * k + j] * window[j * di + d];
                }
                s += b.convW()[d * k + k - 1] * w.xz[d];
                w.xs[d] = s;
            }
            kernels.siluInPlace(w.xs, 0, di);
            if (k > 1) {
                System.arraycopy(window, di, window, 0, (k - 2) * di);
                System.arraycopy(w.xz, 0, window, (k - 2) * di, di);
            }
            kernels.matVecTransposed(b.xProjT(), null, r + 2 * n, di, w.xs, 0, w.dbc, 0);
            kernels.matVecTransposed(b.dtWT(), b.dtB(), di, r, w.dbc, 0, w.delta, 0);
            kernels.softplusInPlace(w.delta, 0, di, gapRatio);
            kernels.scanStep(di, n, w.delta, w.xs, b.a(), w.dbc, r, w.dbc, r + n, c.discretization(), state.h[l], w.y);
            System.arraycopy(w.xz, di, w.gate, 0, di);
            kernels.siluInPlace(w.gate, 0, di);
            for (int d = 0; d < di; d++) {
                w.y[d] = (w.y[d] + b.d()[d] * w.xs[d]) * w.gate[d];
            }
            kernels.matVecTransposed(b.outProjT(), null, dm, di, w.y, 0, w.out, 0);
            for (int i = 0; i < dm; i++) {
                w.resid[i] += w.out[i];
            }
        }
        Linalg.rmsNormRow(w.resid, 0, dm, normF, (float) c.normEps(), w.normed, 0);
        kernels.matVecTransposed(headWT, headB, c.headWidth(), dm, w.normed, 0, head, 0);
    }

    /**
     * One reading for each of {@code keys} keys at once (a stream's micro-batch): x is [keys][channels],
     * gapRatios [keys], states[i] is key i's state (advanced), heads [keys][headWidth] is written. Every
     * projection is one GEMM over all keys (the weights are read once per batch, not once per key); the conv and
     * the scan step run per key on that key's own state. Equals {@link #step} per key up to fp32 summation order.
     */
    public void stepBatch(int keys, float[] x, float[] gapRatios, ModelState[] states, float[] heads) {
        if (x.length < keys * config.channels() || gapRatios.length < keys || states.length < keys
                || heads.length < keys * config.headWidth()) {
            throw new IllegalArgumentException("stepBatch of " + keys + " keys: arrays too short");
        }
        if (members != null) {
            BatchWorkspace w = batchWorkspaces.get().fit(config, keys);
            for (int k = 0; k < members.length; k++) {
                ModelState[] views = w.memberStates;
                for (int i = 0; i < keys; i++) views[i] = states[i].member(k, config.layers());
                float[] out = k == 0 ? heads : w.memberHeads;
                members[k].stepBatch(keys, x, gapRatios, views, out);
                java.util.Arrays.fill(views, 0, keys, null); // hold no key's state past the call
                accumulateMean(heads, out, k, keys * config.headWidth());
            }
            return;
        }
        for (int k0 = 0; k0 < keys; k0 += BATCH_TILE) {
            stepTile(k0, Math.min(BATCH_TILE, keys - k0), x, gapRatios, states, heads);
        }
    }

    /**
     * Keys per pass of {@link #stepBatch}: both layers run over one tile before the next, so the tile's states
     * (9.8 KB per key for the default model) are still in L2 when the second layer reaches them.
     */
    static final int BATCH_TILE = 64;

    /** {@link #stepBatch} for keys [k0, k0 + keys). */
    private void stepTile(int k0, int keys, float[] x, float[] gapRatios, ModelState[] allStates, float[] allHeads) {
        ModelConfig c = config;
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank(), k = c.dConv(), in = c.inputWidth();
        int proj = r + 2 * n, hw = c.headWidth();
        float eps = (float) c.normEps();
        BatchWorkspace w = batchWorkspaces.get().fit(c, keys);
        ModelState[] states = w.states;
        float[] gaps = w.gaps;
        for (int i = 0; i < keys; i++) {
            states[i] = allStates[k0 + i];
            gaps[i] = gapRatios[k0 + i];
            System.arraycopy(x, (k0 + i) * c.channels(), w.e, i * in, c.channels());
            w.e[i * in + c.channels()] = GapScaling.logGapFeature(gaps[i]);
        }
        kernels.gemm(false, true, keys, dm, in, w.e, embedW, embedB, w.resid, false);
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            kernels.rmsNormForward(keys, dm, w.resid, b.norm(), eps, w.normed, null);
            kernels.gemm(false, true, keys, 2 * di, dm, w.normed, b.inProj(), null, w.xz, false);
            for (int i = 0; i < keys; i++) {
                System.arraycopy(w.xz, i * 2 * di, w.xin, i * di, di);
                System.arraycopy(states[i].conv[l], 0, w.windows, i * (k - 1) * di, (k - 1) * di);
            }
            // Each key's window is its prefix: a length-1 convolution over the batch of keys.
            kernels.causalConvForward(keys, 1, di, k, w.xin, w.windows, b.convW(), b.convB(), w.xs);
            kernels.siluInPlace(w.xs, 0, keys * di);
            kernels.gemm(false, true, keys, proj, di, w.xs, b.xProj(), null, w.dbc, false);
            for (int i = 0; i < keys; i++) {
                System.arraycopy(w.dbc, i * proj, w.dtRaw, i * r, r);
            }
            kernels.gemm(false, true, keys, di, r, w.dtRaw, b.dtW(), b.dtB(), w.delta, false);
            for (int i = 0; i < keys; i++) {
                advanceKey(b, l, states[i], w, i, gaps[i]);
            }
            kernels.gemm(false, true, keys, dm, di, w.y, b.outProj(), null, w.resid, true);
        }
        kernels.rmsNormForward(keys, dm, w.resid, normF, eps, w.normed, null);
        kernels.gemm(false, true, keys, hw, dm, w.normed, headW, headB, w.heads, false);
        System.arraycopy(w.heads, 0, allHeads, k0 * hw, keys * hw);
        java.util.Arrays.fill(states, 0, keys, null); // hold no key's state past the call
    }

    /** Key i's share of a batched step: its window shift, Δ, scan step on its state, D skip and gate. */
    private void advanceKey(Block b, int l, ModelState state, BatchWorkspace w, int i, float gapRatio) {
        ModelConfig c = config;
        int di = c.dInner(), n = c.dState(), r = c.dtRank(), k = c.dConv(), proj = r + 2 * n;
        float[] window = state.conv[l];
        if (k > 1) {
            System.arraycopy(window, di, window, 0, (k - 2) * di);
            System.arraycopy(w.xin, i * di, window, (k - 2) * di, di);
        }
        kernels.softplusInPlace(w.delta, i * di, di, gapRatio);
        System.arraycopy(w.delta, i * di, w.keyDelta, 0, di);
        System.arraycopy(w.xs, i * di, w.keyU, 0, di);
        kernels.scanStep(di, n, w.keyDelta, w.keyU, b.a(), w.dbc, i * proj + r, w.dbc, i * proj + r + n,
                c.discretization(), state.h[l], w.keyY);
        System.arraycopy(w.xz, i * 2 * di + di, w.keyGate, 0, di);
        kernels.siluInPlace(w.keyGate, 0, di);
        for (int d = 0; d < di; d++) {
            w.y[i * di + d] = (w.keyY[d] + b.d()[d] * w.keyU[d]) * w.keyGate[d];
        }
    }

    /** Per-thread scratch of {@link #stepBatch}, grown to the largest batch seen. */
    private static final class BatchWorkspace {
        int capacity = -1;
        float[] e, resid, normed, xz, xin, windows, xs, dbc, dtRaw, delta, y, gaps, heads, memberHeads;
        ModelState[] states, memberStates;
        float[] keyDelta, keyU, keyY, keyGate;

        BatchWorkspace fit(ModelConfig c, int keys) {
            if (keys <= capacity) return this;
            int dm = c.dModel(), di = c.dInner();
            e = new float[keys * c.inputWidth()];
            resid = new float[keys * dm];
            normed = new float[keys * dm];
            xz = new float[keys * 2 * di];
            xin = new float[keys * di];
            windows = new float[keys * Math.max(1, c.dConv() - 1) * di];
            xs = new float[keys * di];
            dbc = new float[keys * (c.dtRank() + 2 * c.dState())];
            dtRaw = new float[keys * c.dtRank()];
            delta = new float[keys * di];
            y = new float[keys * di];
            gaps = new float[keys];
            heads = new float[keys * c.headWidth()];
            memberHeads = new float[keys * c.headWidth()];
            states = new ModelState[keys];
            memberStates = new ModelState[keys];
            keyDelta = new float[di];
            keyU = new float[di];
            keyY = new float[di];
            keyGate = new float[di];
            capacity = keys;
            return this;
        }
    }

    /** Per-thread scratch so that {@link #step} allocates nothing. */
    private static final class StepWorkspace {
        final float[] e, resid, normed, xz, xs, dbc, delta, gate, y, out, memberHead;

        StepWorkspace(ModelConfig c) {
            e = new float[c.inputWidth()];
            resid = new float[c.dModel()];
            normed = new float[c.dModel()];
            xz = new float[2 * c.dInner()];
            xs = new float[c.dInner()];
            dbc = new float[c.dtRank() + 2 * c.dState()];
            delta = new float[c.dInner()];
            gate = new float[c.dInner()];
            y = new float[c.dInner()];
            out = new float[c.dModel()];
            memberHead = new float[c.headWidth()];
        }
    }
}
