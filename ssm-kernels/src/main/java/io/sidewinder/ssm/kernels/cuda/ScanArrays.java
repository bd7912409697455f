package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.Discretization;

/**
 * A batch of selective-scan inputs as Java arrays, in the scan contract's layouts: u, deltaRaw, z
 * [batch][length][channels]; b, c [batch][length][stateSize]; a [channels][stateSize] (continuous, negative);
 * d, deltaBias [channels] or null; gap, resets [batch][length] or null; z null means no gate.
 * Δ_t = (softplus ? softplus(raw + bias) : raw + bias)·gap_t.
 */
public record ScanArrays(int batch, int length, int channels, int stateSize, float[] u, float[] deltaRaw,
                         float[] deltaBias, boolean deltaSoftplus, float[] gap, float[] a, float[] b, float[] c,
                         float[] d, float[] z, boolean[] resets, Discretization discretization) {
    public ScanArrays {
        long bld = (long) batch * length * channels, bln = (long) batch * length * stateSize;
        need(u, bld, "u");
        need(deltaRaw, bld, "deltaRaw");
        need(a, (long) channels * stateSize, "a");
        need(b, bln, "b");
        need(c, bln, "c");
        if (deltaBias != null) need(deltaBias, channels, "deltaBias");
        if (d != null) need(d, channels, "d");
        if (z != null) need(z, bld, "z");
        if (gap != null) need(gap, (long) batch * length, "gap");
        if (resets != null && resets.length < (long) batch * length) {
            throw new IllegalArgumentException("resets needs " + (long) batch * length + " entries");
        }
    }

    private static void need(float[] x, long n, String name) {
        if (x == null || x.length < n) {
            throw new IllegalArgumentException(name + " needs " + n + " entries, got "
                    + (x == null ? "null" : x.length));
        }
    }
}
