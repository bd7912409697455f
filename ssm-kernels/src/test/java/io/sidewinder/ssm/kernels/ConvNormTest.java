package io.sidewinder.ssm.kernels;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;

import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The causal depthwise convolution, RMSNorm and SiLU backward on every CPU backend: forwards against a double
 * oracle written from the formulas, backwards against central differences of that oracle (of Σ dy·y), over odd
 * channel counts, widths and lengths shorter than the kernel.
 */
class ConvNormTest {
    static final double RTOL = 3e-4, ATOL = 1e-5;

    static float[] random(SplittableRandom r, int n) {
        return GemmTest.random(r, n);
    }

    /** Double conv: y[b][t][d] = bias[d] + Σ_j w[d][j]·x̃[b][t−(k−1)+j][d]. */
    static double[] convOracle(int batch, int len, int ch, int k, double[] x, double[] prefix, double[] w,
                               double[] bias) {
        double[] y = new double[batch * len * ch];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < len; t++) {
                for (int d = 0; d < ch; d++) {
                    double s = bias == null ? 0 : bias[d];
                    for (int j = 0; j < k; j++) {
                        int src = t - (k - 1) + j;
                        double v = src >= 0 ? x[(b * len + src) * ch + d]
                                : prefix == null ? 0 : prefix[(b * (k - 1) + k - 1 + src) * ch + d];
                        s += w[d * k + j] * v;
                    }
                    y[(b * len + t) * ch + d] = s;
                }
            }
        }
        return y;
    }

    static double[] normOracle(int rows, int width, double[] x, double[] w, double eps) {
        double[] y = new double[rows * width];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int k = 0; k < width; k++) ss += x[r * width + k] * x[r * width + k];
            double inv = 1 / Math.sqrt(ss / width + eps);
            for (int k = 0; k < width; k++) y[r * width + k] = x[r * width + k] * inv * w[k];
        }
        return y;
    }

    /** ∂(Σ dy·f(p))/∂p by central differences in double. */
    static double[] numericGradient(double[] p, double[] dy, Function<double[], double[]> f) {
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double keep = p[i], h = 1e-6 * Math.max(1, Math.abs(keep));
            p[i] = keep + h;
            double up = dot(dy, f.apply(p));
            p[i] = keep - h;
            double down = dot(dy, f.apply(p));
            p[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void causalConvForwardAndBackwardMatchTheDoubleOracle() {
        SplittableRandom r = new SplittableRandom(3);
        for (SsmKernels kernels : GemmTest.backends()) {
            for (int ch : new int[] {1, 3, 16, 17, 64, 65}) {
                for (int k : new int[] {1, 2, 4, 5}) {
                    for (int len : new int[] {1, 3, 9}) {
                        for (boolean withPrefix : new boolean[] {false, true}) {
                            int batch = 1 + (ch + len) % 2;
                            String what = kernels.name() + " ch=" + ch + " k=" + k + " len=" + len + " prefix=" + withPrefix;
                            float[] x = random(r, batch * len * ch), w = random(r, ch * k), bias = random(r, ch);
                            float[] prefix = withPrefix && k > 1 ? random(r, batch * (k - 1) * ch) : null;
                            double[] px = prefix == null ? null : toDouble(prefix);
                            float[] y = new float[x.length];
                            kernels.causalConvForward(batch, len, ch, k, x, prefix, w, bias, y);
                            double[] dx0 = toDouble(x), dw0 = toDouble(w), db0 = toDouble(bias);
                            assertClose(convOracle(batch, len, ch, k, dx0, px, dw0, db0), y, RTOL, ATOL, what + " forward");

                            float[] dy = random(r, y.length), dx = random(r, x.length), dw = random(r, w.length);
                            float[] db = random(r, ch);
                            double[] dxBefore = toDouble(dx), dwBefore = toDouble(dw), dbBefore = toDouble(db);
                            kernels.causalConvBackward(batch, len, ch, k, x, prefix, w, dy, dx, dw, db);
                            double[] ddy = toDouble(dy);
                            assertClose(add(dxBefore, numericGradient(dx0, ddy, p -> convOracle(batch, len, ch, k, p, px, dw0, db0))),
                                    dx, RTOL, 1e-4, what + " dx");
                            assertClose(add(dwBefore, numericGradient(dw0, ddy, p -> convOracle(batch, len, ch, k, dx0, px, p, db0))),
                                    dw, RTOL, 1e-4, what + " dw");
                            assertClose(add(dbBefore, numericGradient(db0, ddy, p -> convOracle(batch, len, ch, k, dx0, px, dw0, p))),
                                    db, RTOL, 1e-4, what + " dbias");
                        }
                    }
                }
            }
        }
    }

    @Test
    void rmsNormForwardAndBackwardMatchTheDoubleOracle() {
        SplittableRandom r = new SplittableRandom(5);
        float eps = 1e-5f;
        for (SsmKernels kernels : GemmTest.backends()) {
            for (int width : new int[] {1, 2, 15, 16, 17, 32, 33, 100}) {
                for (int rows : new int[] {1, 4}) {
                    String what = kernels.name() + " rows=" + rows + " width=" + width;
                    float[] x = random(r, rows * width), w = random(r, width), y = new float[x.length];
                    float[] rstd = new float[rows];
                    kernels.rmsNormForward(rows, width, x, w, eps, y, rstd);
                    double[] dx0 = toDouble(x), dw0 = toDouble(w);
                    assertClose(normOracle(rows, width, dx0, dw0, eps), y, RTOL, ATOL, what + " forward");

                    float[] dy = random(r, x.length), dx = random(r, x.length), dw = random(r, width);
                    double[] dxBefore = toDouble(dx), dwBefore = toDouble(dw), ddy = toDouble(dy);
                    kernels.rmsNormBackward(rows, width, x, w, rstd, dy, dx, dw);
                    assertClose(add(dxBefore, numericGradient(dx0, ddy, p -> normOracle(rows, width, p, dw0, eps))), dx,
                            RTOL, 1e-4, what + " dx");
                    assertClose(add(dwBefore, numericGradient(dw0, ddy, p -> normOracle(rows, width, dx0, p, eps))), dw,
                            RTOL, 1e-4, what + " dw");
                }
            }
        }
    }

    @Test
    void siluBackwardMatchesTheDerivative() {
        SplittableRandom r = new SplittableRandom(9);
        for (SsmKernels kernels : GemmTest.backends()) {
            for (int len : new int[] {1, 15, 16, 17, 100}) {
                float[] x = random(r, len), dy = random(r, len), dx = new float[len];
                for (int i = 0; i < len; i++) x[i] *= 12;
                kernels.siluBackward(x, dy, dx, len);
                double[] expected = numericGradientElementwise(toDouble(x), toDouble(dy));
                assertClose(expected, dx, RTOL, 1e-6, kernels.name() + " silu' len=" + len);
            }
        }
    }

    static double[] numericGradientElementwise(double[] x, double[] dy) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double h = 1e-6, up = silu(x[i] + h), down = silu(x[i] - h);
            g[i] = dy[i] * (up - down) / (2 * h);
        }
        return g;
    }

    static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    static double[] add(double[] a, double[] b) {
        double[] s = new double[a.length];
        for (int i = 0; i < a.length; i++) s[i] = a[i] + b[i];
        return s;
    }
}
