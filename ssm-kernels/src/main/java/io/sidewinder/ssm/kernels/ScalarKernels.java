package io.sidewinder.ssm.kernels;

import io.sidewinder.ssm.Activations;
import io.sidewinder.ssm.Discretization;

/** The plain-Java reference kernels (the oracle every other backend is tested against). */
public final class ScalarKernels implements SsmKernels {
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
}
