package io.sidewinder.ssm.kernels;

import static io.sidewinder.ssm.oracle.Tolerance.toDouble;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.oracle.DoubleOracle;
import java.util.SplittableRandom;

/** A random batched scan problem with realistic magnitudes; which optional inputs exist is chosen per problem. */
final class ScanProblem {
    final int batch, len, dd, n;
    final Discretization disc;
    final float[] u, deltaRaw, deltaBias, gap, a, b, c, d, z, h0, dy;
    final boolean softplus;
    final boolean[] resets;

    /** Options: which optional inputs are present. */
    record Options(boolean gate, boolean bias, boolean gap, boolean resets, boolean h0, boolean skip,
                   boolean softplus) {
        static final Options ALL = new Options(true, true, true, true, true, true, true);
        static final Options NONE = new Options(false, false, false, false, false, false, false);
    }

    ScanProblem(int batch, int len, int dd, int n, Discretization disc, Options o, long seed) {
        this.batch = batch;
        this.len = len;
        this.dd = dd;
        this.n = n;
        this.disc = disc;
        this.softplus = o.softplus();
        SplittableRandom r = new SplittableRandom(seed);
        int bld = batch * len * dd, bln = batch * len * n;
        u = uniform(r, bld, 1.5);
        deltaRaw = new float[bld];
        for (int i = 0; i < bld; i++) {
            // softplus(raw + bias) spans ~[1e-3, 1]; without softplus raw + bias (bias within ±0.5) stays positive.
            deltaRaw[i] = o.softplus() ? (float) (-4 + 4 * r.nextDouble()) : (float) (0.501 + r.nextDouble());
        }
        deltaBias = o.bias() ? uniform(r, dd, 0.5) : null;
        gap = o.gap() ? new float[batch * len] : null;
        if (gap != null) for (int i = 0; i < gap.length; i++) gap[i] = (float) (0.25 + 2 * r.nextDouble());
        a = new float[dd * n];
        for (int i = 0; i < a.length; i++) a[i] = -(float) ((i % n + 1) * (0.3 + r.nextDouble()));
        b = uniform(r, bln, 1.2);
        c = uniform(r, bln, 1.2);
        d = o.skip() ? uniform(r, dd, 1) : null;
        z = o.gate() ? uniform(r, bld, 2) : null;
        resets = o.resets() ? new boolean[batch * len] : null;
        if (resets != null) for (int i = 0; i < resets.length; i++) resets[i] = r.nextInt(11) == 0;
        h0 = o.h0() ? uniform(r, batch * dd * n, 1) : new float[batch * dd * n];
        dy = uniform(r, bld, 1);
    }

    static float[] uniform(SplittableRandom r, int size, double scale) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return x;
    }

    ScanBatch batch() {
        return new ScanBatch(batch, len, dd, n, u, deltaRaw, deltaBias, softplus, gap, a, b, c, d, z, resets, disc);
    }

    /** The double oracle's y, leaving its final state in hOut. */
    double[] oracle(double[] hOut) {
        double[] h = toDouble(h0);
        double[] y = DoubleOracle.scanBatch(batch, len, dd, n, toDouble(u), toDouble(deltaRaw), nd(deltaBias),
                softplus, nd(gap), toDouble(a), toDouble(b), toDouble(c), nd(d), nd(z), resets, disc, h);
        System.arraycopy(h, 0, hOut, 0, h.length);
        return y;
    }

    static double[] nd(float[] x) {
        return x == null ? null : toDouble(x);
    }

    /** Forward then backward on one backend; returns {y, h, chunkStates} and fills grads. */
    float[][] run(SsmKernels k, int chunk, ScanGradients grads) {
        ScanBatch in = batch();
        float[] h = h0.clone(), y = new float[batch * len * dd], states = new float[in.chunkStatesLength(chunk)];
        k.scanForward(in, h, y, states, chunk);
        if (grads != null) k.scanBackward(in, h0, states, chunk, dy, grads);
        return new float[][] {y, h, states};
    }
}
