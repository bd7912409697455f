package io.sidewinder.ssm.kernels;

import io.sidewinder.ssm.Activations;
import io.sidewinder.ssm.Discretization;

/**
 * The inputs of a batched selective scan: the contract every backend (scalar, SIMD, CUDA) implements in
 * {@link SsmKernels#scanForward} and {@link SsmKernels#scanBackward}.
 *
 * <pre>
 *   Δ_t = (deltaSoftplus ? softplus(deltaRaw_t + deltaBias) : deltaRaw_t + deltaBias) · gap_t
 *   h_t = exp(Δ_t·A) ⊙ h_{t−1} + f(Δ_t, A)·B_t·u_t        (f from the discretization, dB = f·B)
 *   y_t = (Σ_n C_t[n]·h_t[n] + D·u_t) · SiLU(z_t)
 * </pre>
 * Layouts (row-major, last index contiguous): u, deltaRaw, z: [batch][length][channels]; b, c:
 * [batch][length][stateSize]; a: [channels][stateSize] (continuous A, negative); d, deltaBias: [channels];
 * gap: [batch][length]; resets: [batch][length] (reset[t] drops the state before step t).
 *
 * @param deltaBias per-channel bias added to deltaRaw, or null for none
 * @param gap multiplier applied to Δ after bias and softplus, or null for 1
 * @param d skip weights, or null for none
 * @param z gate inputs, or null for no gate
 * @param resets reset flags, or null for none
 */
public record ScanBatch(int batch, int length, int channels, int stateSize, float[] u, float[] deltaRaw,
                        float[] deltaBias, boolean deltaSoftplus, float[] gap, float[] a, float[] b, float[] c,
                        float[] d, float[] z, boolean[] resets, Discretization discretization) {

    public ScanBatch {
        if (batch < 1 || length < 1 || channels < 1 || stateSize < 1) {
            throw new IllegalArgumentException("batch, length, channels and stateSize must be positive: "
                    + batch + ", " + length + ", " + channels + ", " + stateSize);
        }
        if (discretization == null) {
            throw new IllegalArgumentException("discretization is required");
        }
        int bld = batch * length * channels, bln = batch * length * stateSize;
        requireLength(u, bld, "u");
        requireLength(deltaRaw, bld, "deltaRaw");
        requireLength(a, channels * stateSize, "a");
        requireLength(b, bln, "b");
        requireLength(c, bln, "c");
        if (deltaBias != null) requireLength(deltaBias, channels, "deltaBias");
        if (gap != null) requireLength(gap, batch * length, "gap");
        if (d != null) requireLength(d, channels, "d");
        if (z != null) requireLength(z, bld, "z");
        if (resets != null && resets.length != batch * length) {
            throw new IllegalArgumentException("resets needs " + batch * length + " entries, got " + resets.length);
        }
    }

    static void requireLength(float[] x, int n, String name) {
        if (x == null || x.length != n) {
            throw new IllegalArgumentException(name + " needs " + n + " entries, got "
                    + (x == null ? "null" : x.length));
        }
    }

    /** Entries of h: [batch][channels][stateSize]. */
    public int stateLength() {
        return batch * channels * stateSize;
    }

    /** Number of chunks of {@code chunkLength} steps (the last may be shorter). */
    public int chunks(int chunkLength) {
        if (chunkLength < 1) {
            throw new IllegalArgumentException("chunkLength must be positive: " + chunkLength);
        }
        return (length + chunkLength - 1) / chunkLength;
    }

    /** Entries of chunkStates: [batch][chunks][channels][stateSize]. */
    public int chunkStatesLength(int chunkLength) {
        return batch * chunks(chunkLength) * channels * stateSize;
    }

    /** Whether a reset drops the state before step t of sequence b. */
    public boolean resetAt(int b, int t) {
        return resets != null && resets[b * length + t];
    }

    /** The pre-activation deltaRaw + bias at flat index i = (b·length + t)·channels + ch. */
    public float deltaPreActivation(int i, int ch) {
        return deltaBias == null ? deltaRaw[i] : deltaRaw[i] + deltaBias[ch];
    }

    /** Δ at flat index i of sequence b, step t, channel ch (the scalar definition every backend matches). */
    public float delta(int b, int t, int ch) {
        int i = (b * length + t) * channels + ch;
        float pre = deltaPreActivation(i, ch);
        float dl = deltaSoftplus ? Activations.softplus(pre) : pre;
        return gap == null ? dl : dl * gap[b * length + t];
    }

    /** Checks the output buffers of {@link SsmKernels#scanForward}. */
    public void checkForwardBuffers(float[] h, float[] y, float[] chunkStates, int chunkLength) {
        requireLength(h, stateLength(), "h");
        requireLength(y, batch * length * channels, "y");
        if (chunkStates != null) requireLength(chunkStates, chunkStatesLength(chunkLength), "chunkStates");
        chunks(chunkLength);
    }
}
