package io.sidewinder.trainer.grad;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.LagReadout;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model of {@link io.sidewinder.ssm.MambaModel} with a hand-written backward pass, in double precision: the
 * trainer's forward/backward over one sequence. Same parameter names, shapes and forward formulas as the fp32
 * model (tested equal), plus gradients for every parameter, the inputs and each layer's initial SSM state h0.
 *
 * <p>The selective scan stores only chunk-boundary states in the forward pass and recomputes each chunk's states in
 * the backward pass, so memory is O(L·D + (L/chunk)·D·N) per layer, never O(L·D·N).
 */
public final class TrainableModel {
    /** Bound of the head's log-variance in the Gaussian NLL, as the served forecast clamps it. */
    static final double LOG_VARIANCE_LIMIT = 30;

    /** Steps per scan chunk between stored states. */
    static final int CHUNK = 32;

    private final ModelConfig c;
    private final Map<String, double[]> params = new LinkedHashMap<>();
    private final Map<String, double[]> grads = new LinkedHashMap<>();
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private double huberDelta = 1.0;

    public TrainableModel(ModelParameters source) {
        this.c = source.config();
        if (c.members() != 1) {
            throw new IllegalArgumentException("an ensemble of " + c.members() + " members trains member by member "
                    + "(EnsembleTrainer), not as one TrainableModel");
        }
        if (c.discretization() == Discretization.BILINEAR) {
            throw new IllegalArgumentException("training supports ZOH and EULER discretizations, not BILINEAR");
        }
        for (Parameter p : source.all()) {
            double[] d = new double[p.size()];
            for (int i = 0; i < d.length; i++) d[i] = p.data()[i];
            params.put(p.name(), d);
            grads.put(p.name(), new double[d.length]);
            shapes.put(p.name(), p.shape());
        }
    }

    private TrainableModel(TrainableModel shared) {
        this.c = shared.c;
        this.huberDelta = shared.huberDelta;
        params.putAll(shared.params);
        shapes.putAll(shared.shapes);
        shared.params.forEach((k, v) -> grads.put(k, new double[v.length]));
    }

    /** Huber's δ of {@link Loss#SCALED_HUBER} (the series' units); views made after this call share it. */
    public TrainableModel withHuberDelta(double delta) {
        if (!(delta > 0)) throw new IllegalArgumentException("Huber's delta must be > 0, got " + delta);
        this.huberDelta = delta;
        return this;
    }

    /** A view with the same parameter arrays and its own gradients (one per training thread). */
    public TrainableModel sharingParameters() {
        return new TrainableModel(this);
    }

    public ModelConfig config() {
        return c;
    }

    public Map<String, double[]> parameters() {
        return params;
    }

    public Map<String, double[]> gradients() {
        return grads;
    }

    public void zeroGradients() {
        for (double[] g : grads.values()) java.util.Arrays.fill(g, 0);
    }

    /** The parameters rounded to fp32, for serving. */
    public ModelParameters toParameters() {
        List<Parameter> out = new ArrayList<>();
        params.forEach((name, d) -> {
            float[] f = new float[d.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) d[i];
            out.add(new Parameter(name, shapes.get(name), f));
        });
        return ModelParameters.of(c, out);
    }

    /** What to fit. */
    public enum Loss {
        /** Gaussian negative log-likelihood of the target under N(mean, exp(logvar)) (minus the constant). */
        GAUSSIAN_NLL,
        /** Squared error of the mean; the log-variance outputs get no gradient. */
        MSE,
        /**
         * Squared error of the mean in the series' own units: the normalised error times the normaliser's σ at the
         * forecast's position. On z-scored data (the ETT protocol) this is the evaluation metric itself, and a window
         * that barely moves (tiny σ, huge normalised targets) no longer outweighs the rest. Use MSE across sensors
         * of different scales.
         */
        SCALED_MSE,
        /**
         * Huber loss of the SCALED_MSE error e (the series' own units): e² within ±δ, 2δ|e| − δ² beyond, so that
         * it equals SCALED_MSE near zero while a spike's pull on the fit grows only linearly. Sensor series carry
         * spikes and level jumps that MSE chases; on ETTm1 (z-scored, δ = 0.25) it lowered the test MAE by 2.5 % at equal MSE.
         */
        SCALED_HUBER;

        /** Whether the loss weights a position's error by the normaliser's σ (needs it at every position). */
        public boolean scaled() {
            return this == SCALED_MSE || this == SCALED_HUBER;
        }
    }

    /**
     * Huber's ψ weight for the closed-form fits' reweighted least squares: 1 within ±δ, δ/|e| beyond (the weight
     * under which the squared error has the Huber loss's gradient at e).
     */
    public static double huberWeight(double e, double delta) {
        double a = Math.abs(e);
        return a <= delta ? 1 : delta / a;
    }

    /**
     * Per-layer forward values kept for the backward pass. Training sequences start with an empty conv window
     * (the trainer runs each window from a fresh state); h0 may be given.
     */
    private static final class LayerCache {
        double[] residIn, inv, normed, xz, xc, xs, dbc, dtPre, delta, a, ys, gate, yg;
        double[][] boundary; // h before each chunk's first step, [chunks][D·N]
    }

    /** Forward values of one sequence. */
    public static final class Tape {
        final int length;
        final double[] e;
        final LayerCache[] layers;
        double[] residOut, invF, featuresF;
        public double[] head;

        private Tape(int length, double[] e, int layers) {
            this.length = length;
            this.e = e;
            this.layers = new LayerCache[layers];
        }
    }

    /**
     * Sequence forward. x is [L][channels] (normalised), gaps the τ ratios, h0 one state per layer (null: zeros;
     * read, not modified). Returns the tape, whose {@code head} is [L][headWidth].
     */
    public Tape forward(double[] x, double[] gaps, int len, double[][] h0) {
        int ch = c.channels(), in = c.inputWidth(), dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank();
        int k = c.dConv(), hw = c.headWidth();
        double[] e = new double[len * in];
        for (int t = 0; t < len; t++) {
            System.arraycopy(x, t * ch, e, t * in, ch);
            e[t * in + ch] = GapScaling.logGapFeature((float) gaps[t]);
        }
        Tape tape = new Tape(len, e, c.layers());
        double[] resid = linear(p("embed.weight"), p("embed.bias"), dm, in, e, len);
        for (int l = 0; l < c.layers(); l++) {
            String pre = "layers." + l + ".";
            LayerCache lc = new LayerCache();
            tape.layers[l] = lc;
            lc.residIn = resid.clone();
            lc.inv = new double[len];
            lc.normed = rmsNorm(resid, p(pre + "norm.weight"), len, dm, lc.inv);
            lc.xz = linear(p(pre + "in_proj.weight"), null, 2 * di, dm, lc.normed, len);
            double[] cw = p(pre + "conv.weight"), cb = p(pre + "conv.bias");
            lc.xc = new double[len * di];
            lc.xs = new double[len * di];
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < di; d++) {
                    double s = cb[d];
                    for (int j = 0; j < k; j++) {
                        int src = t - (k - 1) + j;
                        if (src >= 0) s += cw[d * k + j] * lc.xz[src * 2 * di + d];
                    }
                    lc.xc[t * di + d] = s;
                    lc.xs[t * di + d] = silu(s);
                }
            }
            lc.dbc = linear(p(pre + "x_proj.weight"), null, r + 2 * n, di, lc.xs, len);
            double[] dtw = p(pre + "dt_proj.weight"), dtb = p(pre + "dt_proj.bias");
            lc.dtPre = new double[len * di];
            lc.delta = new double[len * di];
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < di; d++) {
                    double s = dtb[d];
                    for (int q = 0; q < r; q++) s += dtw[d * r + q] * lc.dbc[t * (r + 2 * n) + q];
                    lc.dtPre[t * di + d] = s;
                    lc.delta[t * di + d] = softplus(s) * gaps[t];
                }
            }
            double[] aLog = p(pre + "A_log");
            lc.a = new double[aLog.length];
            for (int i = 0; i < aLog.length; i++) lc.a[i] = -Math.exp(aLog[i]);
            lc.ys = scanForward(lc, len, h0 == null ? null : h0[l], p(pre + "D"));
            lc.gate = new double[len * di];
            lc.yg = new double[len * di];
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < di; d++) {
                    double z = lc.xz[t * 2 * di + di + d];
                    lc.gate[t * di + d] = silu(z);
                    lc.yg[t * di + d] = lc.ys[t * di + d] * lc.gate[t * di + d];
                }
            }
            double[] out = linear(p(pre + "out_proj.weight"), null, dm, di, lc.yg, len);
            for (int i = 0; i < resid.length; i++) resid[i] += out[i];
        }
        tape.residOut = resid;
        tape.invF = new double[len];
        tape.featuresF = rmsNorm(resid, p("norm_f.weight"), len, dm, tape.invF);
        tape.head = linear(p("head.weight"), p("head.bias"), hw, dm, tape.featuresF, len);
        return tape;
    }

    /** Scan forward keeping only chunk-boundary states; returns y = C·h + D·u per (t, d). */
    private double[] scanForward(LayerCache lc, int len, double[] h0, double[] dSkip) {
        int di = c.dInner(), n = c.dState(), r = c.dtRank();
        int chunks = (len + CHUNK - 1) / CHUNK;
        lc.boundary = new double[chunks][];
        double[] h = h0 == null ? new double[di * n] : h0.clone();
        double[] y = new double[len * di];
        for (int t = 0; t < len; t++) {
            if (t % CHUNK == 0) lc.boundary[t / CHUNK] = h.clone();
            stepScan(lc, t, h, y, dSkip, r, n, di);
        }
        return y;
    }

    private void stepScan(LayerCache lc, int t, double[] h, double[] y, double[] dSkip, int r, int n, int di) {
        int row = t * (r + 2 * n);
        for (int d = 0; d < di; d++) {
            double dl = lc.delta[t * di + d], u = lc.xs[t * di + d], acc = 0;
            for (int j = 0; j < n; j++) {
                double a = lc.a[d * n + j];
                double dA = Math.exp(dl * a);
                double f = inputGain(dl, a, dA);
                double hj = dA * h[d * n + j] + f * lc.dbc[row + r + j] * u;
                h[d * n + j] = hj;
                acc += lc.dbc[row + r + n + j] * hj;
            }
            if (y != null) y[t * di + d] = acc + dSkip[d] * u;
        }
    }

    /** f(Δ, a) with dB = f·B. */
    private double inputGain(double delta, double a, double dA) {
        return c.discretization() == Discretization.EULER ? delta : Discretization.ZOH.dBFactor(delta, a, dA);
    }

    /** ∂f/∂Δ. */
    private double gainByDelta(double dA) {
        return c.discretization() == Discretization.EULER ? 1 : dA;
    }

    /** ∂f/∂a, for ZOH Δ²·(e^x(x − 1) + 1)/x² with x = Δa (series near 0). */
    private double gainByA(double delta, double a, double dA, double f) {
        if (c.discretization() == Discretization.EULER) return 0;
        double x = delta * a;
        if (Math.abs(x) < 1e-3) return delta * delta * (0.5 + x * (1.0 / 3 + x / 8));
        return (delta * dA - f) / a;
    }

    /**
     * Loss over one sequence and its gradients, accumulated into {@link #gradients()} (scaled by {@code scale}).
     * targets is [L][H·C] in normalised units, NaN where a target is missing. Returns {sum of element losses,
     * number of elements}. dh0 (may be null) receives ∂loss/∂h0 per layer (scaled).
     */
    public double[] lossAndGradients(double[] x, double[] gaps, int len, double[] targets, Loss loss, double[][] h0,
                                     double scale, double[][] dh0, double[] dx) {
        return lossAndGradients(x, gaps, null, null, len, targets, loss, h0, scale, dh0, dx);
    }

    /**
     * As above, with the readout's lag inputs ([L][K][C], see {@link #addReadout}; null without a readout) and the
     * normaliser's σ at every position ([L][C]; needed by the {@link Loss#scaled() scaled} losses only).
     */
    public double[] lossAndGradients(double[] x, double[] gaps, double[] lags, double[][] std, int len, double[] targets,
                                     Loss loss, double[][] h0, double scale, double[][] dh0, double[] dx) {
        Tape tape = forward(x, gaps, len, h0);
        addReadout(lags, len, tape.head);
        double[] dHead = new double[len * c.headWidth()];
        double[] result = headLoss(tape.head, targets, std, len, loss, scale, dHead);
        readoutGradient(lags, len, dHead, grads.get(LagReadout.WEIGHT));
        backward(tape, x, gaps, dHead, h0, dh0, dx);
        return result;
    }

    /**
     * The served {@link LagReadout} in double: head_t[h·C + c] += Σ_j W[h][j]·lags[t][j][c] for every position t.
     * Nothing when the model has no readout (lags may then be null).
     */
    public void addReadout(double[] lags, int len, double[] head) {
        int kk = c.readoutLags(), ch = c.channels(), hw = c.headWidth();
        if (kk == 0) return;
        double[] w = params.get(LagReadout.WEIGHT);
        for (int t = 0; t < len; t++) {
            int lagBase = t * kk * ch;
            for (int h = 0; h < 2 * c.horizon(); h++) {
                for (int k = 0; k < ch; k++) {
                    double s = 0;
                    for (int j = 0; j < kk; j++) s += w[h * kk + j] * lags[lagBase + j * ch + k];
                    head[t * hw + h * ch + k] += s;
                }
            }
        }
    }

    /** ∂loss/∂W of the readout, Σ_t dHead_t ⊗ lags_t, added into {@code into} (W's gradient). */
    public void readoutGradient(double[] lags, int len, double[] dHead, double[] into) {
        int kk = c.readoutLags(), ch = c.channels(), hw = c.headWidth();
        if (kk == 0) return;
        for (int t = 0; t < len; t++) {
            int lagBase = t * kk * ch;
            for (int h = 0; h < 2 * c.horizon(); h++) {
                for (int k = 0; k < ch; k++) {
                    double d = dHead[t * hw + h * ch + k];
                    if (d == 0) continue;
                    for (int j = 0; j < kk; j++) into[h * kk + j] += d * lags[lagBase + j * ch + k];
                }
            }
        }
    }

    /**
     * The loss of head outputs against targets ([L][H·C], NaN = missing) and its derivative (times scale) into
     * dHead. Returns {sum of element losses, number of elements}.
     */
    public double[] headLoss(double[] head, double[] targets, int len, Loss loss, double scale, double[] dHead) {
        return headLoss(head, targets, null, len, loss, scale, dHead);
    }

    /** As above; std ([L][C], the normaliser's σ at each position) weights the {@link Loss#scaled() scaled} losses. */
    public double[] headLoss(double[] head, double[] targets, double[][] std, int len, Loss loss, double scale,
                             double[] dHead) {
        int hc = c.horizon() * c.channels(), hw = c.headWidth(), ch = c.channels();
        if (loss.scaled() && std == null) {
            throw new IllegalArgumentException(loss + " needs the normaliser's σ at every position");
        }
        double sum = 0;
        long count = 0;
        for (int t = 0; t < len; t++) {
            for (int i = 0; i < hc; i++) {
                double y = targets[t * hc + i];
                if (Double.isNaN(y)) continue;
                double mu = head[t * hw + i], lv = head[t * hw + hc + i], err = mu - y;
                count++;
                if (loss == Loss.SCALED_HUBER) {
                    double sd = std[t][i % ch], e = sd * err, delta = huberDelta;
                    boolean inside = Math.abs(e) <= delta;
                    sum += inside ? e * e : 2 * delta * Math.abs(e) - delta * delta;
                    dHead[t * hw + i] = 2 * sd * (inside ? e : delta * Math.signum(e)) * scale;
                } else if (loss == Loss.MSE || loss == Loss.SCALED_MSE) {
                    double weight = loss == Loss.MSE ? 1 : std[t][i % ch] * std[t][i % ch];
                    sum += weight * err * err;
                    dHead[t * hw + i] = 2 * weight * err * scale;
                } else {
                    // The log-variance the stream serves is clamped to [-30, 30] (Forecaster): the loss sees the same
                    // value, with no gradient beyond the clamp. Unclamped, an exactly flat stretch of history (a
                    // stuck sensor) drives lv towards -inf, its mean gradient err·e^-lv without bound, and then NaN.
                    double raw = lv;
                    lv = Math.max(-LOG_VARIANCE_LIMIT, Math.min(LOG_VARIANCE_LIMIT, lv));
                    double prec = Math.exp(-lv);
                    sum += 0.5 * (lv + err * err * prec);
                    dHead[t * hw + i] = err * prec * scale;
                    double dLv = 0.5 * (1 - err * err * prec);
                    // Beyond the clamp only a step back towards it is kept, so an output stuck out there can return.
                    boolean outward = (raw < -LOG_VARIANCE_LIMIT && dLv > 0) || (raw > LOG_VARIANCE_LIMIT && dLv < 0);
                    dHead[t * hw + hc + i] = outward ? 0 : dLv * scale;
                }
            }
        }
        return new double[] {sum, count};
    }

    /** Backpropagates dHead ([L][headWidth]) through the tape into the gradients (and dh0, dx when given). */
    public void backward(Tape tape, double[] x, double[] gaps, double[] dHead, double[][] h0, double[][] dh0, double[] dx) {
        int len = tape.length, ch = c.channels(), in = c.inputWidth(), dm = c.dModel(), di = c.dInner();
        int n = c.dState(), r = c.dtRank(), k = c.dConv(), hw = c.headWidth();
        double[] dFeat = linearBackward(p("head.weight"), g("head.weight"), g("head.bias"), hw, dm, tape.featuresF, dHead, len);
        double[] dResid = rmsNormBackward(tape.residOut, p("norm_f.weight"), g("norm_f.weight"), tape.invF, dFeat, len, dm);
        for (int l = c.layers() - 1; l >= 0; l--) {
            String pre = "layers." + l + ".";
            LayerCache lc = tape.layers[l];
            // resid_out = resid_in + out_proj(yg): dResid flows to both.
            double[] dYg = linearBackward(p(pre + "out_proj.weight"), g(pre + "out_proj.weight"), null, dm, di, lc.yg, dResid, len);
            double[] dXz = new double[len * 2 * di];
            double[] dYs = new double[len * di];
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < di; d++) {
                    int i = t * di + d;
                    double z = lc.xz[t * 2 * di + di + d];
                    dYs[i] = dYg[i] * lc.gate[i];
                    dXz[t * 2 * di + di + d] = dYg[i] * lc.ys[i] * siluGrad(z);
                }
            }
            double[] dXs = new double[len * di];
            double[] dDbc = new double[len * (r + 2 * n)];
            double[] dDelta = new double[len * di];
            scanBackward(lc, len, pre, dYs, dXs, dDbc, dDelta, dh0 == null ? null : dh0[l]);
            // Δ = softplus(dtPre)·τ
            double[] dtw = p(pre + "dt_proj.weight"), gdtw = g(pre + "dt_proj.weight"), gdtb = g(pre + "dt_proj.bias");
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < di; d++) {
                    double pre1 = lc.dtPre[t * di + d];
                    double dp = dDelta[t * di + d] * gaps[t] * (pre1 > 20 ? 1 : sigmoid(pre1));
                    gdtb[d] += dp;
                    for (int q = 0; q < r; q++) {
                        gdtw[d * r + q] += dp * lc.dbc[t * (r + 2 * n) + q];
                        dDbc[t * (r + 2 * n) + q] += dp * dtw[d * r + q];
                    }
                }
            }
            double[] dXsProj = linearBackward(p(pre + "x_proj.weight"), g(pre + "x_proj.weight"), null, r + 2 * n, di, lc.xs, dDbc, len);
            for (int i = 0; i < dXs.length; i++) dXs[i] += dXsProj[i];
            double[] cw = p(pre + "conv.weight"), gcw = g(pre + "conv.weight"), gcb = g(pre + "conv.bias");
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < di; d++) {
                    double dxc = dXs[t * di + d] * siluGrad(lc.xc[t * di + d]);
                    gcb[d] += dxc;
                    for (int j = 0; j < k; j++) {
                        int src = t - (k - 1) + j;
                        if (src >= 0) {
                            gcw[d * k + j] += dxc * lc.xz[src * 2 * di + d];
                            dXz[src * 2 * di + d] += dxc * cw[d * k + j];
                        }
                    }
                }
            }
            double[] dNormed = linearBackward(p(pre + "in_proj.weight"), g(pre + "in_proj.weight"), null, 2 * di, dm, lc.normed, dXz, len);
            double[] dIn = rmsNormBackward(lc.residIn, p(pre + "norm.weight"), g(pre + "norm.weight"), lc.inv, dNormed, len, dm);
            for (int i = 0; i < dResid.length; i++) dResid[i] += dIn[i];
        }
        double[] dE = linearBackward(p("embed.weight"), g("embed.weight"), g("embed.bias"), dm, in, tape.e, dResid, len);
        if (dx != null) {
            for (int t = 0; t < len; t++) {
                for (int i = 0; i < ch; i++) dx[t * ch + i] += dE[t * in + i];
            }
        }
    }

    /** Reverse pass of the scan, recomputing each chunk's states from its stored boundary. */
    private void scanBackward(LayerCache lc, int len, String pre, double[] dY, double[] dU, double[] dDbc,
                              double[] dDelta, double[] dh0) {
        int di = c.dInner(), n = c.dState(), r = c.dtRank(), w = r + 2 * n;
        double[] dSkip = p(pre + "D"), gD = g(pre + "D"), gALog = g(pre + "A_log");
        double[] gA = new double[di * n];
        double[] carry = new double[di * n]; // g_{t+1}·dA_{t+1}: what flows into h_t from later steps
        int chunks = lc.boundary.length;
        for (int kc = chunks - 1; kc >= 0; kc--) {
            int from = kc * CHUNK, to = Math.min(len, from + CHUNK);
            double[][] states = new double[to - from + 1][];
            states[0] = lc.boundary[kc].clone();
            double[] h = states[0].clone();
            for (int t = from; t < to; t++) {
                stepScan(lc, t, h, null, dSkip, r, n, di);
                states[t - from + 1] = h.clone();
            }
            for (int t = to - 1; t >= from; t--) {
                double[] hPrev = states[t - from], hCur = states[t - from + 1];
                int row = t * w;
                for (int d = 0; d < di; d++) {
                    int i = t * di + d;
                    double dy = dY[i], dl = lc.delta[i], u = lc.xs[i];
                    gD[d] += dy * u;
                    dU[i] += dSkip[d] * dy;
                    double dDl = 0;
                    for (int j = 0; j < n; j++) {
                        int s = d * n + j;
                        double a = lc.a[s], dA = Math.exp(dl * a), f = inputGain(dl, a, dA);
                        double b = lc.dbc[row + r + j], cc = lc.dbc[row + r + n + j];
                        double gh = carry[s] + cc * dy; // ∂L/∂h_t
                        dDbc[row + r + n + j] += dy * hCur[s];
                        dDbc[row + r + j] += gh * f * u;
                        dU[i] += gh * f * b;
                        dDl += gh * (a * dA * hPrev[s] + gainByDelta(dA) * b * u);
                        gA[s] += gh * (dl * dA * hPrev[s] + gainByA(dl, a, dA, f) * b * u);
                        carry[s] = gh * dA;
                    }
                    dDelta[i] += dDl;
                }
            }
        }
        for (int s = 0; s < gA.length; s++) gALog[s] += gA[s] * lc.a[s]; // a = −exp(A_log)
        if (dh0 != null) {
            for (int s = 0; s < carry.length; s++) dh0[s] += carry[s];
        }
    }

    private double[] p(String name) {
        return params.get(name);
    }

    private double[] g(String name) {
        return grads.get(name);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static double silu(double x) {
        return x * sigmoid(x);
    }

    static double siluGrad(double x) {
        double s = sigmoid(x);
        return s * (1 + x * (1 - s));
    }

    static double softplus(double x) {
        return x > 20 ? x : Math.log1p(Math.exp(x));
    }

    static double[] linear(double[] w, double[] b, int out, int in, double[] x, int rows) {
        double[] y = new double[rows * out];
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                int base = o * in, xo = t * in;
                for (int i = 0; i < in; i++) s += w[base + i] * x[xo + i];
                y[t * out + o] = s;
            }
        }
        return y;
    }

    /** Accumulates dW (and db) and returns dx for y = W·x + b over rows. */
    static double[] linearBackward(double[] w, double[] gw, double[] gb, int out, int in, double[] x, double[] dy, int rows) {
        double[] dx = new double[rows * in];
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < out; o++) {
                double g = dy[t * out + o];
                if (g == 0) continue;
                if (gb != null) gb[o] += g;
                int base = o * in, xo = t * in;
                for (int i = 0; i < in; i++) {
                    gw[base + i] += g * x[xo + i];
                    dx[xo + i] += g * w[base + i];
                }
            }
        }
        return dx;
    }

    private double[] rmsNorm(double[] x, double[] w, int rows, int width, double[] invOut) {
        double[] y = new double[x.length];
        double eps = c.normEps();
        for (int t = 0; t < rows; t++) {
            double ss = 0;
            for (int i = 0; i < width; i++) ss += x[t * width + i] * x[t * width + i];
            double inv = 1 / Math.sqrt(ss / width + eps);
            invOut[t] = inv;
            for (int i = 0; i < width; i++) y[t * width + i] = x[t * width + i] * inv * w[i];
        }
        return y;
    }

    static double[] rmsNormBackward(double[] x, double[] w, double[] gw, double[] inv, double[] dy, int rows, int width) {
        double[] dx = new double[x.length];
        for (int t = 0; t < rows; t++) {
            double dot = 0, iv = inv[t];
            for (int i = 0; i < width; i++) {
                int j = t * width + i;
                gw[i] += dy[j] * x[j] * iv;
                dot += dy[j] * w[i] * x[j];
            }
            for (int i = 0; i < width; i++) {
                int j = t * width + i;
                dx[j] = iv * dy[j] * w[i] - x[j] * iv * iv * iv * dot / width;
            }
        }
        return dx;
    }
}
