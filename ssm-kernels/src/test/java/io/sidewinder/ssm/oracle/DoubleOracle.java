package io.sidewinder.ssm.oracle;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;

/**
 * An independent double-precision implementation of the selective scan and the whole model, written as
 * directly from the formulas as possible (sequential, no chunking, no shared code with the fp32 path except
 * the parameter container and the discretization formulas). Every fp32 path is checked against it.
 */
public final class DoubleOracle {
    private DoubleOracle() {}

    /** Sequential scan in double. Shapes as SelectiveScan.Inputs; h is [D][N] in/out; returns y [L][D]. */
    public static double[] scan(int len, int dd, int n, double[] u, double[] delta, double[] a, double[] b,
                                double[] c, double[] dSkip, double[] z, boolean[] resets, Discretization disc,
                                double[] h) {
        double[] y = new double[len * dd];
        for (int t = 0; t < len; t++) {
            if (resets != null && resets[t]) {
                java.util.Arrays.fill(h, 0);
            }
            for (int d = 0; d < dd; d++) {
                double dl = delta[t * dd + d], ut = u[t * dd + d], acc = 0;
                for (int j = 0; j < n; j++) {
                    double aa = a[d * n + j];
                    double dA = disc.dA(dl, aa);
                    double dB = disc.dBFactor(dl, aa) * b[t * n + j];
                    h[d * n + j] = dA * h[d * n + j] + dB * ut;
                    acc += c[t * n + j] * h[d * n + j];
                }
                if (dSkip != null) acc += dSkip[d] * ut;
                if (z != null) {
                    double zz = z[t * dd + d];
                    acc *= zz / (1 + Math.exp(-zz));
                }
                y[t * dd + d] = acc;
            }
        }
        return y;
    }

    /**
     * The batched scan contract (kernels.ScanBatch) in double, straight from its formulas: Δ from the raw input,
     * bias, softplus and gap; then {@link #scan} per sequence. h is [batch][D][N] in/out; returns y
     * [batch][L][D]. Null arrays mean "absent" exactly as in ScanBatch.
     */
    public static double[] scanBatch(int batch, int len, int dd, int n, double[] u, double[] deltaRaw,
                                     double[] deltaBias, boolean softplus, double[] gap, double[] a, double[] b,
                                     double[] c, double[] dSkip, double[] z, boolean[] resets, Discretization disc,
                                     double[] h) {
        double[] y = new double[batch * len * dd];
        for (int s = 0; s < batch; s++) {
            double[] delta = new double[len * dd];
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < dd; d++) {
                    double pre = deltaRaw[(s * len + t) * dd + d] + (deltaBias == null ? 0 : deltaBias[d]);
                    delta[t * dd + d] = (softplus ? softplus(pre) : pre) * (gap == null ? 1 : gap[s * len + t]);
                }
            }
            boolean[] r = resets == null ? null : java.util.Arrays.copyOfRange(resets, s * len, (s + 1) * len);
            double[] hs = java.util.Arrays.copyOfRange(h, s * dd * n, (s + 1) * dd * n);
            double[] ys = scan(len, dd, n, slice(u, s, len * dd), delta, a, slice(b, s, len * n),
                    slice(c, s, len * n), dSkip, z == null ? null : slice(z, s, len * dd), r, disc, hs);
            System.arraycopy(ys, 0, y, s * len * dd, ys.length);
            System.arraycopy(hs, 0, h, s * dd * n, hs.length);
        }
        return y;
    }

    private static double[] slice(double[] x, int index, int size) {
        return java.util.Arrays.copyOfRange(x, index * size, (index + 1) * size);
    }

    /** Model state in double: per layer h [Di*N] and conv history [(K-1)][Di]. */
    public static final class State {
        public final double[][] h, conv;

        public State(ModelConfig c) {
            h = new double[c.layers()][c.dInner() * c.dState()];
            conv = new double[c.layers()][(c.dConv() - 1) * c.dInner()];
        }
    }

    static double[] d(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    static double softplus(double x) {
        return x > 20 ? x : Math.log1p(Math.exp(x));
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** Whole-model forward, one position at a time, in double. x is [L][C], returns head [L][headWidth]. */
    public static double[] forward(ModelParameters p, double[] x, double[] gaps, int len, State s) {
        ModelConfig c = p.config();
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank(), k = c.dConv(), ch = c.channels();
        double eps = c.normEps();
        double[] out = new double[len * c.headWidth()];
        double[] ew = d(p.data("embed.weight")), eb = d(p.data("embed.bias"));
        for (int t = 0; t < len; t++) {
            double[] e = new double[ch + 1];
            for (int i = 0; i < ch; i++) e[i] = x[t * ch + i];
            e[ch] = Math.log((float) gaps[t]);
            double[] resid = matvec(ew, eb, dm, ch + 1, e);
            for (int l = 0; l < c.layers(); l++) {
                String pre = "layers." + l + ".";
                double[] v = rms(resid, d(p.data(pre + "norm.weight")), eps);
                double[] xz = matvec(d(p.data(pre + "in_proj.weight")), null, 2 * di, dm, v);
                double[] cw = d(p.data(pre + "conv.weight")), cb = d(p.data(pre + "conv.bias"));
                double[] xs = new double[di];
                double[] hist = s.conv[l];
                for (int dd = 0; dd < di; dd++) {
                    double acc = cb[dd];
                    for (int j = 0; j < k - 1; j++) acc += cw[dd * k + j] * hist[j * di + dd];
                    acc += cw[dd * k + k - 1] * xz[dd];
                    xs[dd] = silu(acc);
                }
                for (int j = 0; j + 1 < k - 1; j++) System.arraycopy(hist, (j + 1) * di, hist, j * di, di);
                if (k > 1) System.arraycopy(xz, 0, hist, (k - 2) * di, di);
                double[] dbc = matvec(d(p.data(pre + "x_proj.weight")), null, r + 2 * n, di, xs);
                double[] dtw = d(p.data(pre + "dt_proj.weight")), dtb = d(p.data(pre + "dt_proj.bias"));
                double[] aLog = d(p.data(pre + "A_log")), dSkip = d(p.data(pre + "D"));
                double[] delta = new double[di], a = new double[di * n], bb = new double[n], cc = new double[n];
                for (int dd = 0; dd < di; dd++) {
                    double acc = dtb[dd];
                    for (int q = 0; q < r; q++) acc += dtw[dd * r + q] * dbc[q];
                    delta[dd] = softplus(acc) * (float) gaps[t];
                }
                for (int i = 0; i < a.length; i++) a[i] = -Math.exp(aLog[i]);
                System.arraycopy(dbc, r, bb, 0, n);
                System.arraycopy(dbc, r + n, cc, 0, n);
                double[] z = new double[di];
                System.arraycopy(xz, di, z, 0, di);
                double[] y = scan(1, di, n, xs, delta, a, bb, cc, dSkip, z, null, c.discretization(), s.h[l]);
                double[] o = matvec(d(p.data(pre + "out_proj.weight")), null, dm, di, y);
                for (int i = 0; i < dm; i++) resid[i] += o[i];
            }
            double[] f = rms(resid, d(p.data("norm_f.weight")), eps);
            double[] head = matvec(d(p.data("head.weight")), d(p.data("head.bias")), c.headWidth(), dm, f);
            System.arraycopy(head, 0, out, t * c.headWidth(), head.length);
        }
        return out;
    }

    static double[] matvec(double[] w, double[] b, int out, int in, double[] x) {
        double[] y = new double[out];
        for (int i = 0; i < out; i++) {
            double s = b == null ? 0 : b[i];
            for (int j = 0; j < in; j++) s += w[i * in + j] * x[j];
            y[i] = s;
        }
        return y;
    }

    static double[] rms(double[] x, double[] w, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * w[i];
        return y;
    }

    /** The gap ratio exactly as the fp32 path sees it. */
    public static double gap(GapScaling g, long prev, long now) {
        return g.ratio(prev, now);
    }
}
