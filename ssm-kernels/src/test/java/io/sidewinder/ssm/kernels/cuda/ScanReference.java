package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.Discretization;

/**
 * The scan contract's forward and backward in double precision, written from the formulas (every state kept,
 * no chunking): the oracle the CUDA kernels are compared with. Its gradients are checked against central
 * differences in {@link ScanReferenceTest}.
 */
final class ScanReference {
    private ScanReference() {}

    record Forward(double[] y, double[] hFinal, double[] chunkStates) {}

    record Gradients(double[] du, double[] dDeltaRaw, double[] dDeltaBias, double[] da, double[] db, double[] dc,
                     double[] dd, double[] dz, double[] dh0) {}

    static double softplus(double x) {
        return x > 20 ? x : Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static double rawPlusBias(ScanBatch in, int b, int t, int d) {
        return in.deltaRaw()[idx(in, b, t, d)] + (in.deltaBias() == null ? 0 : in.deltaBias()[d]);
    }

    static double delta(ScanBatch in, int b, int t, int d) {
        double raw = rawPlusBias(in, b, t, d);
        double g = in.gap() == null ? 1 : in.gap()[b * in.length() + t];
        return (in.deltaSoftplus() ? softplus(raw) : raw) * g;
    }

    static int idx(ScanBatch in, int b, int t, int d) {
        return (b * in.length() + t) * in.channels() + d;
    }

    /** {dA, f, ∂dA/∂Δ, ∂f/∂Δ, ∂dA/∂a, ∂f/∂a}. */
    static double[] discretize(Discretization disc, double dt, double a) {
        double x = dt * a;
        return switch (disc) {
            case EULER -> {
                double e = Math.exp(x);
                yield new double[] {e, dt, a * e, 1, dt * e, 0};
            }
            case ZOH -> {
                double e = Math.exp(x);
                double f = a == 0 ? dt : Math.expm1(x) / a;
                double fda = Math.abs(x) < 1e-4 ? dt * dt * (0.5 + x / 3) : (dt * e - f) / a;
                yield new double[] {e, f, a * e, e, dt * e, fda};
            }
            case BILINEAR -> {
                double r = 1 / (1 - x / 2);
                yield new double[] {(1 + x / 2) * r, dt * r, a * r * r, r + (x / 2) * r * r, dt * r * r,
                        0.5 * dt * dt * r * r};
            }
        };
    }

    static Forward forward(ScanBatch in, double[] h0, int chunkLength) {
        int bs = in.batch(), len = in.length(), dd = in.channels(), n = in.stateSize();
        int chunks = (len + chunkLength - 1) / chunkLength;
        double[] y = new double[bs * len * dd], hOut = h0.clone(), states = new double[bs * chunks * dd * n];
        for (int b = 0; b < bs; b++) {
            for (int d = 0; d < dd; d++) {
                double[] h = new double[n];
                for (int j = 0; j < n; j++) h[j] = h0[(b * dd + d) * n + j];
                for (int t = 0; t < len; t++) {
                    if (t % chunkLength == 0) {
                        for (int j = 0; j < n; j++) states[((b * chunks + t / chunkLength) * dd + d) * n + j] = h[j];
                    }
                    if (in.resets() != null && in.resets()[b * len + t]) java.util.Arrays.fill(h, 0);
                    double dt = delta(in, b, t, d), u = in.u()[idx(in, b, t, d)], acc = 0;
                    for (int j = 0; j < n; j++) {
                        double[] p = discretize(in.discretization(), dt, in.a()[d * n + j]);
                        h[j] = p[0] * h[j] + p[1] * in.b()[(b * len + t) * n + j] * u;
                        acc += in.c()[(b * len + t) * n + j] * h[j];
                    }
                    if (in.d() != null) acc += in.d()[d] * u;
                    if (in.z() != null) {
                        double zv = in.z()[idx(in, b, t, d)];
                        acc *= zv * sigmoid(zv);
                    }
                    y[idx(in, b, t, d)] = acc;
                }
                for (int j = 0; j < n; j++) hOut[(b * dd + d) * n + j] = h[j];
            }
        }
        return new Forward(y, hOut, states);
    }

    /** Gradients of Σ dout·y with respect to every input, h0 included. */
    static Gradients backward(ScanBatch in, double[] h0, double[] dout) {
        int bs = in.batch(), len = in.length(), dd = in.channels(), n = in.stateSize();
        Gradients gr = new Gradients(new double[bs * len * dd], new double[bs * len * dd], new double[dd],
                new double[dd * n], new double[bs * len * n], new double[bs * len * n], new double[dd],
                new double[bs * len * dd], new double[bs * dd * n]);
        for (int b = 0; b < bs; b++) {
            for (int d = 0; d < dd; d++) {
                double[][] hs = new double[len + 1][n];  // hs[t + 1] = h_t, hs[0] = h0
                for (int j = 0; j < n; j++) hs[0][j] = h0[(b * dd + d) * n + j];
                for (int t = 0; t < len; t++) {
                    boolean reset = in.resets() != null && in.resets()[b * len + t];
                    double dt = delta(in, b, t, d), u = in.u()[idx(in, b, t, d)];
                    for (int j = 0; j < n; j++) {
                        double[] p = discretize(in.discretization(), dt, in.a()[d * n + j]);
                        double prev = reset ? 0 : hs[t][j];
                        hs[t + 1][j] = p[0] * prev + p[1] * in.b()[(b * len + t) * n + j] * u;
                    }
                }
                double[] carry = new double[n];
                for (int t = len - 1; t >= 0; t--) {
                    int i = idx(in, b, t, d);
                    boolean reset = in.resets() != null && in.resets()[b * len + t];
                    double dt = delta(in, b, t, d), u = in.u()[i], go = dout[i];
                    double pre = in.d() == null ? 0 : in.d()[d] * u;
                    for (int j = 0; j < n; j++) pre += in.c()[(b * len + t) * n + j] * hs[t + 1][j];
                    double dyp = go;
                    if (in.z() != null) {
                        double zv = in.z()[i], s = sigmoid(zv);
                        dyp = go * zv * s;
                        gr.dz()[i] = go * pre * s * (1 + zv * (1 - s));
                    }
                    double ddt = 0, du = in.d() == null ? 0 : in.d()[d] * dyp;
                    for (int j = 0; j < n; j++) {
                        int bn = (b * len + t) * n + j;
                        double[] p = discretize(in.discretization(), dt, in.a()[d * n + j]);
                        double g = carry[j] + in.c()[bn] * dyp;
                        double prev = reset ? 0 : hs[t][j], bv = in.b()[bn];
                        ddt += g * (bv * u * p[3] + prev * p[2]);
                        gr.da()[d * n + j] += g * (bv * u * p[5] + prev * p[4]);
                        du += g * p[1] * bv;
                        gr.db()[bn] += g * p[1] * u;
                        gr.dc()[bn] += dyp * hs[t + 1][j];
                        carry[j] = reset ? 0 : p[0] * g;
                    }
                    gr.du()[i] = du;
                    if (in.d() != null) gr.dd()[d] += dyp * u;
                    double raw = rawPlusBias(in, b, t, d), gap = in.gap() == null ? 1 : in.gap()[b * len + t];
                    double draw = ddt * gap * (in.deltaSoftplus() && raw <= 20 ? sigmoid(raw) : 1);
                    gr.dDeltaRaw()[i] = draw;
                    gr.dDeltaBias()[d] += draw;
                }
                for (int j = 0; j < n; j++) gr.dh0()[(b * dd + d) * n + j] = carry[j];
            }
        }
        return gr;
    }
}
