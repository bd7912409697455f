package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.Discretization;
import java.util.SplittableRandom;

/** Random scan batches with Mamba-like magnitudes (Δ from a softplus'd bias between 1e-3 and 0.1, times a gap). */
final class ScanProblems {
    private ScanProblems() {}

    static ScanBatch random(int batch, int length, int channels, int n, Discretization disc, boolean gate,
                             boolean withResets, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int bld = batch * length * channels, bln = batch * length * n;
        float[] u = uniform(r, bld, 1.7f), raw = uniform(r, bld, 1f), bias = new float[channels];
        for (int d = 0; d < channels; d++) {
            double dt = Math.exp(Math.log(1e-3) + r.nextDouble() * (Math.log(0.1) - Math.log(1e-3)));
            bias[d] = (float) (dt + Math.log(-Math.expm1(-dt)));  // inverse softplus
        }
        if (bld > 3) raw[bld / 3] = 25f;  // above the softplus threshold: passthrough
        float[] gap = new float[batch * length];
        for (int i = 0; i < gap.length; i++) gap[i] = (float) (0.5 + 2.5 * r.nextDouble());
        float[] a = new float[channels * n];
        for (int i = 0; i < a.length; i++) a[i] = -(float) ((i % n + 1) * (0.5 + r.nextDouble()));
        boolean[] resets = null;
        if (withResets) {
            resets = new boolean[batch * length];
            for (int i = 0; i < resets.length; i++) resets[i] = r.nextDouble() < 0.01;
            resets[0] = true;
        }
        return new ScanBatch(batch, length, channels, n, u, raw, bias, true, gap, a, uniform(r, bln, 1.7f),
                uniform(r, bln, 1.7f), uniform(r, channels, 1.7f), gate ? uniform(r, bld, 2f) : null, resets, disc);
    }

    static float[] uniform(SplittableRandom r, int size, float scale) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (r.nextDouble() * 2 - 1) * scale;
        return x;
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }
}
