package io.sidewinder.ssm.kernels;

/** The reference causal depthwise convolution, forward and backward (see {@link SsmKernels#causalConvForward}). */
public final class ScalarConv {
    private ScalarConv() {}

    /** The input at time s ≥ −(width−1) of sequence b, channel d: x, or the prefix before the sequence, or 0. */
    static float input(int b, int s, int d, int length, int channels, int width, float[] x, float[] prefix) {
        if (s >= 0) return x[(b * length + s) * channels + d];
        return prefix == null ? 0f : prefix[(b * (width - 1) + width - 1 + s) * channels + d];
    }

    public static void forward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                               float[] bias, float[] y) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                for (int d = 0; d < channels; d++) {
                    float s = bias == null ? 0f : bias[d];
                    for (int j = 0; j < width; j++) {
                        s += w[d * width + j] * input(b, t - (width - 1) + j, d, length, channels, width, x, prefix);
                    }
                    y[(b * length + t) * channels + d] = s;
                }
            }
        }
    }

    public static void backward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                                float[] dy, float[] dx, float[] dw, float[] dbias) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                for (int d = 0; d < channels; d++) {
                    float g = dy[(b * length + t) * channels + d];
                    if (dbias != null) dbias[d] += g;
                    for (int j = 0; j < width; j++) {
                        int s = t - (width - 1) + j;
                        dw[d * width + j] += g * input(b, s, d, length, channels, width, x, prefix);
                        if (s >= 0) dx[(b * length + s) * channels + d] += g * w[d * width + j];
                    }
                }
            }
        }
    }

    /** Throws unless the arrays hold the shapes. */
    public static void checkShapes(int batch, int length, int channels, int width, float[] x, float[] prefix,
                                   float[] w, float[] out) {
        long n = (long) batch * length * channels;
        if (x.length < n || out.length < n || w.length < (long) channels * width
                || (prefix != null && prefix.length < (long) batch * (width - 1) * channels)) {
            throw new IllegalArgumentException("causal conv [" + batch + "][" + length + "][" + channels + "] width "
                    + width + ": arrays too short");
        }
    }
}
