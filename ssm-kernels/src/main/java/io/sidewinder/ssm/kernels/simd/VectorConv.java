package io.sidewinder.ssm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal depthwise convolution on the Vector API: lanes over channels (inputs [L][D] load contiguously), the
 * weights transposed once per call to [width][D] so that each tap is one vector load.
 */
final class VectorConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorConv() {}

    /** [channels][width] → [width][channels]. */
    private static float[] tapsByChannel(float[] w, int channels, int width) {
        float[] t = new float[width * channels];
        for (int d = 0; d < channels; d++) {
            for (int j = 0; j < width; j++) t[j * channels + d] = w[d * width + j];
        }
        return t;
    }

    /** Offset of time s of sequence b in x (s ≥ 0) or in the prefix (s &lt; 0); −1 when it is a zero. */
    private static int rowOffset(int b, int s, int length, int channels, int width, float[] prefix) {
        if (s >= 0) return (b * length + s) * channels;
        return prefix == null ? -1 : (b * (width - 1) + width - 1 + s) * channels;
    }

    static void forward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                        float[] bias, float[] y) {
        float[] taps = tapsByChannel(w, channels, width);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                int out = (b * length + t) * channels;
                for (int d = 0; d < channels; d += S.length()) {
                    VectorMask<Float> m = S.indexInRange(d, channels);
                    FloatVector acc = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, d, m);
                    for (int j = 0; j < width; j++) {
                        int s = t - (width - 1) + j, off = rowOffset(b, s, length, channels, width, prefix);
                        if (off < 0) continue;
                        FloatVector in = FloatVector.fromArray(S, s >= 0 ? x : prefix, off + d, m);
                        acc = FloatVector.fromArray(S, taps, j * channels + d, m).fma(in, acc);
                    }
                    acc.intoArray(y, out + d, m);
                }
            }
        }
    }

    static void backward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                         float[] dy, float[] dx, float[] dw, float[] dbias) {
        float[] taps = tapsByChannel(w, channels, width), dTaps = new float[width * channels];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                int row = (b * length + t) * channels;
                for (int d = 0; d < channels; d += S.length()) {
                    VectorMask<Float> m = S.indexInRange(d, channels);
                    FloatVector g = FloatVector.fromArray(S, dy, row + d, m);
                    if (dbias != null) g.add(FloatVector.fromArray(S, dbias, d, m)).intoArray(dbias, d, m);
                    for (int j = 0; j < width; j++) {
                        int s = t - (width - 1) + j, off = rowOffset(b, s, length, channels, width, prefix);
                        if (off < 0) continue;
                        int tap = j * channels + d;
                        FloatVector in = FloatVector.fromArray(S, s >= 0 ? x : prefix, off + d, m);
                        g.fma(in, FloatVector.fromArray(S, dTaps, tap, m)).intoArray(dTaps, tap, m);
                        if (s >= 0) {
                            g.fma(FloatVector.fromArray(S, taps, tap, m), FloatVector.fromArray(S, dx, off + d, m))
                                    .intoArray(dx, off + d, m);
                        }
                    }
                }
            }
        }
        for (int d = 0; d < channels; d++) {
            for (int j = 0; j < width; j++) dw[d * width + j] += dTaps[j * channels + d];
        }
    }
}
