package io.sidewinder.ssm;

/** Dense fp32 building blocks of the reference model (the scalar kernels). */
final class Linalg {
    private Linalg() {}

    /** y[r] = Σ_k W[r][k]·x[xOff + k] (+ bias[r]) for one input row; W is [out][in] row-major. */
    static void linearRow(float[] w, float[] bias, int out, int in, float[] x, int xOff, float[] y, int yOff) {
        for (int r = 0; r < out; r++) {
            float s = bias == null ? 0f : bias[r];
            int base = r * in;
            for (int k = 0; k < in; k++) {
                s += w[base + k] * x[xOff + k];
            }
            y[yOff + r] = s;
        }
    }

    /** Row-wise linear over a [rows][in] matrix into [rows][out]. */
    static float[] linear(float[] w, float[] bias, int out, int in, float[] x, int rows) {
        float[] y = new float[rows * out];
        for (int t = 0; t < rows; t++) {
            linearRow(w, bias, out, in, x, t * in, y, t * out);
        }
        return y;
    }

    /** RMSNorm of one row: y = x / sqrt(mean(x²) + eps) · w. */
    static void rmsNormRow(float[] x, int off, int width, float[] w, float eps, float[] y, int yOff) {
        float ss = 0f;
        for (int k = 0; k < width; k++) {
            ss += x[off + k] * x[off + k];
        }
        float inv = (float) (1 / Math.sqrt(ss / width + eps));
        for (int k = 0; k < width; k++) {
            y[yOff + k] = x[off + k] * inv * w[k];
        }
    }
}
