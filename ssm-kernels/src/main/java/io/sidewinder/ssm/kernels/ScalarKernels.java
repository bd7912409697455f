package io.sidewinder.ssm.kernels;

import io.sidewinder.ssm.Activations;
import io.sidewinder.ssm.Discretization;

/**
 * The plain-Java reference kernels (the oracle every other backend is tested against): fp32 state and sums,
 * transcendentals in double rounded to fp32, as {@link io.sidewinder.ssm.SelectiveScan} computes them.
 */
public final class ScalarKernels implements SsmKernels, TiledScan {
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {}

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void matVec(float[] w, float[] bias, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        for (int r = 0; r < rows; r++) {
            float s = bias == null ? 0f : bias[r];
            int base = r * cols;
            for (int k = 0; k < cols; k++) {
                s += w[base + k] * x[xOff + k];
            }
            y[yOff + r] = s;
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        ScalarGemm.checkShapes(m, n, k, a, b, bias, c);
        ScalarGemm.gemm(transA, transB, m, n, k, a, b, bias, c, accumulate);
    }

    @Override
    public void causalConvForward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                                  float[] bias, float[] y) {
        ScalarConv.checkShapes(batch, length, channels, width, x, prefix, w, y);
        ScalarConv.forward(batch, length, channels, width, x, prefix, w, bias, y);
    }

    @Override
    public void causalConvBackward(int batch, int length, int channels, int width, float[] x, float[] prefix,
                                   float[] w, float[] dy, float[] dx, float[] dw, float[] dbias) {
        ScalarConv.checkShapes(batch, length, channels, width, x, prefix, w, dx);
        ScalarConv.backward(batch, length, channels, width, x, prefix, w, dy, dx, dw, dbias);
    }

    @Override
    public void rmsNormForward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        ScalarRmsNorm.checkShapes(rows, width, x, w, y, rstd);
        ScalarRmsNorm.forward(rows, width, x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                                float[] dw) {
        ScalarRmsNorm.checkShapes(rows, width, x, w, dx, rstd);
        ScalarRmsNorm.backward(rows, width, x, w, rstd, dy, dx, dw);
    }

    @Override
    public void siluBackward(float[] x, float[] dy, float[] dx, int len) {
        for (int i = 0; i < len; i++) dx[i] = dy[i] * siluDerivative(x[i]);
    }

    @Override
    public void softplusInPlace(float[] x, int off, int len, float scale) {
        for (int i = off; i < off + len; i++) {
            x[i] = Activations.softplus(x[i]) * scale;
        }
    }

    @Override
    public void siluInPlace(float[] x, int off, int len) {
        for (int i = off; i < off + len; i++) {
            x[i] = Activations.silu(x[i]);
        }
    }

    @Override
    public void scanStep(int channels, int n, float[] delta, float[] u, float[] a, float[] b, int bOff, float[] c,
                         int cOff, Discretization disc, float[] h, float[] y) {
        for (int d = 0; d < channels; d++) {
            float dl = delta[d], ud = u[d], acc = 0f;
            for (int j = 0; j < n; j++) {
                float aa = a[d * n + j];
                double dA = disc.dA(dl, aa);
                float dB = (float) disc.dBFactor(dl, aa, dA) * b[bOff + j];
                float hj = (float) dA * h[d * n + j] + dB * ud;
                h[d * n + j] = hj;
                acc += c[cOff + j] * hj;
            }
            y[d] = acc;
        }
    }

    @Override
    public void scanForward(ScanBatch in, float[] h, float[] y, float[] chunkStates, int chunkLength) {
        ScanTiling.forward(this, in, h, y, chunkStates, chunkLength, null);
    }

    @Override
    public void scanBackward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                             ScanGradients out) {
        ScanTiling.backward(this, in, h0, chunkStates, chunkLength, dy, out, null);
    }

    @Override
    public void scanForwardTile(ScanBatch in, int b, int c0, int c1, float[] h, float[] y, float[] chunkStates,
                                int chunkLength) {
        int len = in.length(), dd = in.channels(), n = in.stateSize(), chunks = in.chunks(chunkLength);
        int hOff = (b * dd + c0) * n, tileStates = (c1 - c0) * n;
        for (int t = 0; t < len; t++) {
            if (chunkStates != null && t % chunkLength == 0) {
                int k = t / chunkLength;
                System.arraycopy(h, hOff, chunkStates, ((b * chunks + k) * dd + c0) * n, tileStates);
            }
            if (in.resetAt(b, t)) {
                java.util.Arrays.fill(h, hOff, hOff + tileStates, 0f);
            }
            int row = b * len + t;
            for (int ch = c0; ch < c1; ch++) {
                int i = row * dd + ch;
                float yHat = advanceChannel(in, in.delta(b, t, ch), in.u()[i], ch, row * n, h, (b * dd + ch) * n);
                float out = in.d() == null ? yHat : yHat + in.d()[ch] * in.u()[i];
                y[i] = in.z() == null ? out : out * Activations.silu(in.z()[i]);
            }
        }
    }

    /** h = dA ⊙ h + f·B·u for one channel's state at h[hOff..hOff+N); returns Σ C·h (before D·u and the gate). */
    private static float advanceChannel(ScanBatch in, float delta, float u, int ch, int bcOff, float[] h, int hOff) {
        int n = in.stateSize();
        Discretization disc = in.discretization();
        float acc = 0f;
        for (int j = 0; j < n; j++) {
            float a = in.a()[ch * n + j];
            double dA = disc.dA(delta, a);
            float dB = (float) disc.dBFactor(delta, a, dA) * in.b()[bcOff + j];
            float hj = (float) dA * h[hOff + j] + dB * u;
            h[hOff + j] = hj;
            acc += in.c()[bcOff + j] * hj;
        }
        return acc;
    }

    @Override
    public void scanBackwardTile(ScanBatch in, int b, int c0, int c1, float[] h0, float[] chunkStates,
                                 int chunkLength, float[] dy, ScanGradients out, ScanTilePartials partial) {
        int len = in.length(), dd = in.channels(), n = in.stateSize(), chunks = in.chunks(chunkLength);
        int cw = c1 - c0, tileStates = cw * n;
        Discretization disc = in.discretization();
        float[] carry = new float[tileStates]; // ∂L/∂h_t flowing back from step t+1: g_{t+1}·dA_{t+1}
        float[] states = new float[(Math.min(len, chunkLength) + 1) * tileStates];
        float[] h = new float[dd * n]; // recomputation scratch, indexed like one sequence's state
        for (int k = chunks - 1; k >= 0; k--) {
            int from = k * chunkLength, to = Math.min(len, from + chunkLength);
            // Recompute the chunk: states[s] is the state after step from + s − 1 (states[0] = entering state).
            if (k == 0) {
                if (h0 == null) java.util.Arrays.fill(h, c0 * n, c1 * n, 0f);
                else System.arraycopy(h0, (b * dd + c0) * n, h, c0 * n, tileStates);
            } else {
                System.arraycopy(chunkStates, ((b * chunks + k) * dd + c0) * n, h, c0 * n, tileStates);
            }
            System.arraycopy(h, c0 * n, states, 0, tileStates);
            for (int t = from; t < to; t++) {
                if (in.resetAt(b, t)) java.util.Arrays.fill(h, c0 * n, c1 * n, 0f);
                int row = b * len + t;
                for (int ch = c0; ch < c1; ch++) {
                    advanceChannel(in, in.delta(b, t, ch), in.u()[row * dd + ch], ch, row * n, h, ch * n);
                }
                System.arraycopy(h, c0 * n, states, (t - from + 1) * tileStates, tileStates);
            }
            for (int t = to - 1; t >= from; t--) {
                boolean reset = in.resetAt(b, t);
                int row = b * len + t, prev = (t - from) * tileStates, cur = prev + tileStates;
                for (int ch = c0; ch < c1; ch++) {
                    int i = row * dd + ch, s0 = (ch - c0) * n;
                    float delta = in.delta(b, t, ch), u = in.u()[i];
                    float gate = in.z() == null ? 1f : Activations.silu(in.z()[i]);
                    float dyHat = dy[i] * gate, yHat = 0f, du = 0f, dDelta = 0f;
                    for (int j = 0; j < n; j++) {
                        int s = s0 + j, bc = row * n + j;
                        float a = in.a()[ch * n + j], bj = in.b()[bc], cj = in.c()[bc];
                        double dA = disc.dA(delta, a);
                        float f = (float) disc.dBFactor(delta, a, dA);
                        float hPrev = reset ? 0f : states[prev + s], hCur = states[cur + s];
                        float g = carry[s] + cj * dyHat;
                        yHat += cj * hCur;
                        partial.dc[(t * n) + j] += dyHat * hCur;
                        partial.db[(t * n) + j] += g * f * u;
                        du += g * f * bj;
                        dDelta += g * ((float) disc.dAByDelta(delta, a, dA) * hPrev
                                + (float) disc.dBFactorByDelta(delta, a, dA) * bj * u);
                        partial.da[s] += g * ((float) disc.dAByA(delta, a, dA) * hPrev
                                + (float) disc.dBFactorByA(delta, a, dA) * bj * u);
                        carry[s] = reset ? 0f : g * (float) dA;
                    }
                    if (in.d() != null) {
                        yHat += in.d()[ch] * u;
                        du += in.d()[ch] * dyHat;
                        partial.dd[ch - c0] += dyHat * u;
                    }
                    if (in.z() != null) {
                        out.dz()[i] += dy[i] * yHat * siluDerivative(in.z()[i]);
                    }
                    out.du()[i] += du;
                    float dPre = dDelta * deltaByPreActivation(in, b, t, i, ch);
                    out.dDeltaRaw()[i] += dPre;
                    partial.dDeltaBias[ch - c0] += dPre;
                }
            }
        }
        int hOff = (b * dd + c0) * n;
        for (int s = 0; s < tileStates; s++) {
            out.dh0()[hOff + s] += carry[s];
        }
    }

    /** ∂Δ/∂(deltaRaw + bias): the gap, times sigmoid when softplus applies below its passthrough threshold. */
    static float deltaByPreActivation(ScanBatch in, int b, int t, int i, int ch) {
        float gap = in.gap() == null ? 1f : in.gap()[b * in.length() + t];
        if (!in.deltaSoftplus()) return gap;
        float pre = in.deltaPreActivation(i, ch);
        return pre > Activations.SOFTPLUS_THRESHOLD ? gap : Activations.sigmoid(pre) * gap;
    }

    /** d SiLU(z)/dz = σ(z)·(1 + z·(1 − σ(z))). */
    static float siluDerivative(float z) {
        float s = Activations.sigmoid(z);
        return s * (1 + z * (1 - s));
    }
}
