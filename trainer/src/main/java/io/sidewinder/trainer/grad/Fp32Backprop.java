package io.sidewinder.trainer.grad;

import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.Parameter;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.SsmKernels;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The trainer's fp32 backend: forward and backward of the whole model ({@link TrainableModel}'s formulas, same
 * parameter names) over a batch of sequences at once, every hot loop through the {@link SsmKernels} façade —
 * projections as GEMMs over all batch·L rows, the causal conv, RMSNorm, SiLU and the batch selective scan with
 * its chunked recompute. Sequences start from a zero state and an empty conv window, as the trainer's windows do.
 * Gradients accumulate (+=) into {@link #gradients()}; the double {@link TrainableModel} stays the reference.
 */
public final class Fp32Backprop {
    static final int CHUNK = 64;

    private final ModelConfig c;
    private final SsmKernels k;
    private final Map<String, float[]> params = new LinkedHashMap<>();
    private final Map<String, float[]> grads = new LinkedHashMap<>();
    private final float[][] a; // A = −exp(A_log) per layer

    public Fp32Backprop(ModelParameters source, SsmKernels kernels) {
        this.c = source.config();
        this.k = kernels;
        for (Parameter p : source.all()) {
            params.put(p.name(), p.data());
            grads.put(p.name(), new float[p.size()]);
        }
        a = new float[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            float[] aLog = p("layers." + l + ".A_log");
            a[l] = new float[aLog.length];
            for (int i = 0; i < aLog.length; i++) a[l][i] = -(float) Math.exp(aLog[i]);
        }
    }

    public Map<String, float[]> gradients() {
        return grads;
    }

    public void zeroGradients() {
        for (float[] g : grads.values()) java.util.Arrays.fill(g, 0f);
    }

    /** What one layer's backward needs from its forward. */
    private static final class LayerTape {
        float[] residIn, rstd, normed, xin, z, xc, xs, dtRaw, bm, cm, y, chunkStates;
        ScanBatch scan;
    }

    /** Forward values of one batch. */
    public static final class Tape {
        final int batch, length;
        final float[] gaps, e;
        final LayerTape[] layers;
        float[] residOut, rstdF, features;
        /** [batch][L][headWidth]. */
        public float[] head;

        Tape(int batch, int length, float[] gaps, float[] e, int layers) {
            this.batch = batch;
            this.length = length;
            this.gaps = gaps;
            this.e = e;
            this.layers = new LayerTape[layers];
        }
    }

    /** Forward over x [batch][L][channels] (normalised) with gap ratios [batch][L]. */
    public Tape forward(float[] x, float[] gaps, int batch, int len) {
        int ch = c.channels(), in = c.inputWidth(), dm = c.dModel(), rows = batch * len;
        float[] e = new float[rows * in];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(x, t * ch, e, t * in, ch);
            e[t * in + ch] = GapScaling.logGapFeature(gaps[t]);
        }
        Tape tape = new Tape(batch, len, gaps, e, c.layers());
        float[] resid = new float[rows * dm];
        k.gemm(false, true, rows, dm, in, e, p("embed.weight"), p("embed.bias"), resid, false);
        for (int l = 0; l < c.layers(); l++) {
            tape.layers[l] = layerForward(l, resid, tape);
        }
        float eps = (float) c.normEps();
        tape.residOut = resid;
        tape.rstdF = new float[rows];
        tape.features = new float[rows * dm];
        k.rmsNormForward(rows, dm, resid, p("norm_f.weight"), eps, tape.features, tape.rstdF);
        tape.head = new float[rows * c.headWidth()];
        k.gemm(false, true, rows, c.headWidth(), dm, tape.features, p("head.weight"), p("head.bias"), tape.head, false);
        return tape;
    }

    /** One Mamba block; adds its output to resid. */
    private LayerTape layerForward(int l, float[] resid, Tape tape) {
        String pre = "layers." + l + ".";
        int batch = tape.batch, len = tape.length, rows = batch * len;
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank(), proj = r + 2 * n;
        LayerTape lt = new LayerTape();
        lt.residIn = resid.clone();
        lt.rstd = new float[rows];
        lt.normed = new float[rows * dm];
        k.rmsNormForward(rows, dm, resid, p(pre + "norm.weight"), (float) c.normEps(), lt.normed, lt.rstd);
        float[] xz = new float[rows * 2 * di];
        k.gemm(false, true, rows, 2 * di, dm, lt.normed, p(pre + "in_proj.weight"), null, xz, false);
        lt.xin = new float[rows * di];
        lt.z = new float[rows * di];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(xz, t * 2 * di, lt.xin, t * di, di);
            System.arraycopy(xz, t * 2 * di + di, lt.z, t * di, di);
        }
        lt.xc = new float[rows * di];
        k.causalConvForward(batch, len, di, c.dConv(), lt.xin, null, p(pre + "conv.weight"), p(pre + "conv.bias"), lt.xc);
        lt.xs = lt.xc.clone();
        k.siluInPlace(lt.xs, 0, lt.xs.length);
        float[] dbc = new float[rows * proj];
        k.gemm(false, true, rows, proj, di, lt.xs, p(pre + "x_proj.weight"), null, dbc, false);
        lt.dtRaw = new float[rows * r];
        lt.bm = new float[rows * n];
        lt.cm = new float[rows * n];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(dbc, t * proj, lt.dtRaw, t * r, r);
            System.arraycopy(dbc, t * proj + r, lt.bm, t * n, n);
            System.arraycopy(dbc, t * proj + r + n, lt.cm, t * n, n);
        }
        float[] dtIn = new float[rows * di];
        k.gemm(false, true, rows, di, r, lt.dtRaw, p(pre + "dt_proj.weight"), null, dtIn, false);
        lt.scan = new ScanBatch(batch, len, di, n, lt.xs, dtIn, p(pre + "dt_proj.bias"), true, tape.gaps, a[l], lt.bm,
                lt.cm, p(pre + "D"), lt.z, null, c.discretization());
        lt.y = new float[rows * di];
        lt.chunkStates = new float[lt.scan.chunkStatesLength(CHUNK)];
        k.scanForward(lt.scan, new float[lt.scan.stateLength()], lt.y, lt.chunkStates, CHUNK);
        k.gemm(false, true, rows, dm, di, lt.y, p(pre + "out_proj.weight"), null, resid, true);
        return lt;
    }

    /** Backpropagates dHead ([batch][L][headWidth]) into {@link #gradients()}. */
    public void backward(Tape tape, float[] dHead) {
        int rows = tape.batch * tape.length, dm = c.dModel(), hw = c.headWidth(), in = c.inputWidth();
        k.gemm(true, false, hw, dm, rows, dHead, tape.features, null, g("head.weight"), true);
        columnSums(dHead, rows, hw, g("head.bias"));
        float[] dFeat = new float[rows * dm], dResid = new float[rows * dm];
        k.gemm(false, false, rows, dm, hw, dHead, p("head.weight"), null, dFeat, false);
        k.rmsNormBackward(rows, dm, tape.residOut, p("norm_f.weight"), tape.rstdF, dFeat, dResid, g("norm_f.weight"));
        for (int l = c.layers() - 1; l >= 0; l--) {
            layerBackward(l, tape.layers[l], tape, dResid);
        }
        k.gemm(true, false, dm, in, rows, dResid, tape.e, null, g("embed.weight"), true);
        columnSums(dResid, rows, dm, g("embed.bias"));
    }

    /** dResid holds ∂L/∂resid_out on entry and ∂L/∂resid_in on exit (the residual passes it through). */
    private void layerBackward(int l, LayerTape lt, Tape tape, float[] dResid) {
        String pre = "layers." + l + ".";
        int batch = tape.batch, len = tape.length, rows = batch * len;
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank(), proj = r + 2 * n;
        float[] dY = new float[rows * di];
        k.gemm(false, false, rows, di, dm, dResid, p(pre + "out_proj.weight"), null, dY, false);
        k.gemm(true, false, dm, di, rows, dResid, lt.y, null, g(pre + "out_proj.weight"), true);
        ScanGradients sg = ScanGradients.zerosFor(lt.scan);
        k.scanBackward(lt.scan, null, lt.chunkStates, CHUNK, dY, sg);
        addInto(g(pre + "D"), sg.dd());
        addInto(g(pre + "dt_proj.bias"), sg.dDeltaBias());
        float[] gALog = g(pre + "A_log");
        for (int i = 0; i < gALog.length; i++) gALog[i] += sg.da()[i] * a[l][i]; // a = −exp(A_log)
        // Δ_in = dt_raw·W_dtᵀ
        k.gemm(true, false, di, r, rows, sg.dDeltaRaw(), lt.dtRaw, null, g(pre + "dt_proj.weight"), true);
        float[] dDtRaw = new float[rows * r];
        k.gemm(false, false, rows, r, di, sg.dDeltaRaw(), p(pre + "dt_proj.weight"), null, dDtRaw, false);
        float[] dDbc = new float[rows * proj];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(dDtRaw, t * r, dDbc, t * proj, r);
            System.arraycopy(sg.db(), t * n, dDbc, t * proj + r, n);
            System.arraycopy(sg.dc(), t * n, dDbc, t * proj + r + n, n);
        }
        k.gemm(true, false, proj, di, rows, dDbc, lt.xs, null, g(pre + "x_proj.weight"), true);
        float[] dXs = sg.du(); // the scan's u is xs; x_proj's input is xs too
        k.gemm(false, false, rows, di, proj, dDbc, p(pre + "x_proj.weight"), null, dXs, true);
        float[] dXc = new float[rows * di];
        k.siluBackward(lt.xc, dXs, dXc, dXc.length);
        float[] dXin = new float[rows * di];
        k.causalConvBackward(batch, len, di, c.dConv(), lt.xin, null, p(pre + "conv.weight"), dXc, dXin,
                g(pre + "conv.weight"), g(pre + "conv.bias"));
        float[] dXz = new float[rows * 2 * di];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(dXin, t * di, dXz, t * 2 * di, di);
            System.arraycopy(sg.dz(), t * di, dXz, t * 2 * di + di, di);
        }
        k.gemm(true, false, 2 * di, dm, rows, dXz, lt.normed, null, g(pre + "in_proj.weight"), true);
        float[] dNormed = new float[rows * dm];
        k.gemm(false, false, rows, dm, 2 * di, dXz, p(pre + "in_proj.weight"), null, dNormed, false);
        k.rmsNormBackward(rows, dm, lt.residIn, p(pre + "norm.weight"), lt.rstd, dNormed, dResid, g(pre + "norm.weight"));
    }

    private static void columnSums(float[] x, int rows, int cols, float[] out) {
        for (int t = 0; t < rows; t++) {
            for (int j = 0; j < cols; j++) out[j] += x[t * cols + j];
        }
    }

    private static void addInto(float[] acc, float[] x) {
        for (int i = 0; i < acc.length; i++) acc[i] += x[i];
    }

    private float[] p(String name) {
        return params.get(name);
    }

    private float[] g(String name) {
        return grads.get(name);
    }
}
