package io.sidewinder.ssm;

import java.util.stream.IntStream;

/**
 * The selective scan (S6) of Mamba, in fp32, for one sequence:
 * <pre>
 *   h_t = dA_t ⊙ h_{t−1} + dB_t·u_t,   dA_t = exp(Δ_t·A),  dB_t = f(Δ_t, A)·B_t   (f from the discretization)
 *   y_t = (Σ_n C_t[n]·h_t[n] + D·u_t) · SiLU(z_t)
 * </pre>
 * Two equivalent evaluations: {@link #sequential} (the reference) and {@link #chunked}, which splits the
 * sequence into chunks, reduces each chunk to one element (Π dA, local h) of the associative operator
 * (a0,b0)∘(a1,b1) = (a1·a0, a1·b0 + b1), combines the chunk elements into each chunk's carry-in state, then
 * re-runs every chunk from its true carry-in. Chunks run in parallel; only chunk-boundary states are kept.
 *
 * <p>Both take the initial state in {@code h} and leave the final state there, and honour segment resets
 * (reset[t] starts a new segment at t: the state before t is dropped).
 */
public final class SelectiveScan {
    private SelectiveScan() {}

    public static final int DEFAULT_CHUNK = 256;

    /**
     * One sequence's scan inputs. Layout is time-major with channels contiguous: u, Δ, z are [L][D];
     * B, C are [L][N]; A is [D][N] (the continuous, negative A); D is [D].
     *
     * @param delta the final step Δ_t (after softplus and gap scaling)
     * @param d skip weights, or null for none
     * @param z gate inputs, or null for no gate
     * @param resets reset flags per step, or null for none
     */
    public record Inputs(int length, int channels, int stateSize, float[] u, float[] delta, float[] a,
                         float[] b, float[] c, float[] d, float[] z, boolean[] resets,
                         Discretization discretization) {
        public Inputs {
            int ld = length * channels, ln = length * stateSize;
            check(u, ld, "u");
            check(delta, ld, "delta");
            check(a, channels * stateSize, "A");
            check(b, ln, "B");
            check(c, ln, "C");
            if (d != null) check(d, channels, "D");
            if (z != null) check(z, ld, "z");
            if (resets != null && resets.length < length) {
                throw new IllegalArgumentException("resets needs " + length + " entries, got " + resets.length);
            }
        }

        private static void check(float[] x, int n, String name) {
            if (x == null || x.length < n) {
                throw new IllegalArgumentException(name + " needs " + n + " entries, got "
                        + (x == null ? "null" : x.length));
            }
        }
    }

    /** The reference: a plain sequential scan. h holds h0 on entry ([D][N]) and the final state on exit. */
    public static void sequential(Inputs in, float[] h, float[] y) {
        scanRange(in, 0, in.length(), h, y);
    }

    /** Chunked associative scan; equal to {@link #sequential} up to fp32 rounding. */
    public static void chunked(Inputs in, float[] h, float[] y, int chunkLength, boolean parallel) {
        int len = in.length(), dn = in.channels() * in.stateSize();
        int chunks = (len + chunkLength - 1) / chunkLength;
        if (chunks <= 1) {
            sequential(in, h, y);
            return;
        }
        // Pass 1: reduce each chunk to (Π dA, h from zero state) per (d, n).
        float[][] prod = new float[chunks][dn];
        float[][] local = new float[chunks][dn];
        IntStream ids = IntStream.range(0, chunks);
        (parallel ? ids.parallel() : ids).forEach(k ->
                reduceChunk(in, k * chunkLength, Math.min(len, (k + 1) * chunkLength), prod[k], local[k]));
        // Combine: carry_{k+1} = prod_k · carry_k + local_k (the associative operator, left to right).
        float[][] carry = new float[chunks][];
        carry[0] = h.clone();
        for (int k = 0; k + 1 < chunks; k++) {
            float[] next = new float[dn];
            for (int i = 0; i < dn; i++) {
                next[i] = prod[k][i] * carry[k][i] + local[k][i];
            }
            carry[k + 1] = next;
        }
        // Pass 2: every chunk from its true carry-in writes its outputs.
        IntStream ids2 = IntStream.range(0, chunks);
        (parallel ? ids2.parallel() : ids2).forEach(k ->
                scanRange(in, k * chunkLength, Math.min(len, (k + 1) * chunkLength), carry[k], y));
        System.arraycopy(carry[chunks - 1], 0, h, 0, dn);
    }

    private static void reduceChunk(Inputs in, int from, int to, float[] prod, float[] local) {
        int dd = in.channels(), n = in.stateSize();
        java.util.Arrays.fill(prod, 1f);
        java.util.Arrays.fill(local, 0f);
        for (int t = from; t < to; t++) {
            if (in.resets() != null && in.resets()[t]) {
                java.util.Arrays.fill(prod, 0f);
                java.util.Arrays.fill(local, 0f);
            }
            for (int d = 0; d < dd; d++) {
                float delta = in.delta()[t * dd + d], u = in.u()[t * dd + d];
                for (int j = 0; j < n; j++) {
                    float a = in.a()[d * n + j];
                    double dAd = in.discretization().dA(delta, a);
                    float dA = (float) dAd;
                    float dBu = (float) in.discretization().dBFactor(delta, a, dAd) * in.b()[t * n + j] * u;
                    int i = d * n + j;
                    prod[i] *= dA;
                    local[i] = dA * local[i] + dBu;
                }
            }
        }
    }

    /** Sequential scan over [from, to) starting from state h (updated in place), writing y for those steps. */
    private static void scanRange(Inputs in, int from, int to, float[] h, float[] y) {
        int dd = in.channels(), n = in.stateSize();
        for (int t = from; t < to; t++) {
            if (in.resets() != null && in.resets()[t]) {
                java.util.Arrays.fill(h, 0f);
            }
            for (int d = 0; d < dd; d++) {
                y[t * dd + d] = stepChannel(in, t, d, h, d * n);
            }
        }
    }

    /** Advances channel d's state (at h[offset..offset+N)) by step t and returns its output y_t[d]. */
    static float stepChannel(Inputs in, int t, int d, float[] h, int offset) {
        int dd = in.channels(), n = in.stateSize();
        float delta = in.delta()[t * dd + d], u = in.u()[t * dd + d];
        float acc = 0f;
        for (int j = 0; j < n; j++) {
            float a = in.a()[d * n + j];
            double dAd = in.discretization().dA(delta, a);
            float dA = (float) dAd;
            float dB = (float) in.discretization().dBFactor(delta, a, dAd) * in.b()[t * n + j];
            float hj = dA * h[offset + j] + dB * u;
            h[offset + j] = hj;
            acc += in.c()[t * n + j] * hj;
        }
        if (in.d() != null) {
            acc += in.d()[d] * u;
        }
        if (in.z() != null) {
            acc *= Activations.silu(in.z()[t * dd + d]);
        }
        return acc;
    }
}
