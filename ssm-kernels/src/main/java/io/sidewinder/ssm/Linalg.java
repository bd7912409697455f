package io.sidewinder.ssm;

/** Dense fp32 building blocks of the reference model (the scalar kernels). */
final class Linalg {
    private Linalg() {}

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
