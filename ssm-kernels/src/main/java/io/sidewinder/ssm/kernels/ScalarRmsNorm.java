package io.sidewinder.ssm.kernels;

/** The reference RMSNorm over rows, forward and backward (see {@link SsmKernels#rmsNormForward}). */
public final class ScalarRmsNorm {
    private ScalarRmsNorm() {}

    /** 1/sqrt(mean(x²) + eps) from the fp32 sum of squares, in double and rounded (as the model always did). */
    public static float inverseRms(float sumSquares, int width, float eps) {
        return (float) (1 / Math.sqrt(sumSquares / width + eps));
    }

    public static void forward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        for (int r = 0; r < rows; r++) {
            int off = r * width;
            float ss = 0f;
            for (int k = 0; k < width; k++) ss += x[off + k] * x[off + k];
            float inv = inverseRms(ss, width, eps);
            for (int k = 0; k < width; k++) y[off + k] = x[off + k] * inv * w[k];
            if (rstd != null) rstd[r] = inv;
        }
    }

    public static void backward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                                float[] dw) {
        for (int r = 0; r < rows; r++) {
            int off = r * width;
            float inv = rstd[r], dot = 0f;
            for (int k = 0; k < width; k++) dot += dy[off + k] * w[k] * x[off + k];
            float coef = inv * inv * dot / width;
            for (int k = 0; k < width; k++) {
                dx[off + k] += inv * (dy[off + k] * w[k] - x[off + k] * coef);
                dw[k] += dy[off + k] * x[off + k] * inv;
            }
        }
    }

    public static void checkShapes(int rows, int width, float[] x, float[] w, float[] out, float[] rstd) {
        long n = (long) rows * width;
        if (x.length < n || out.length < n || w.length < width || (rstd != null && rstd.length < rows)) {
            throw new IllegalArgumentException("rmsnorm [" + rows + "][" + width + "]: arrays too short");
        }
    }
}
