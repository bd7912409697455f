package io.sidewinder.ssm.kernels.simd;

import io.sidewinder.ssm.Activations;
import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.ScanTilePartials;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batched selective scan vectorised over channels (one FloatVector holds V adjacent channels of one step):
 * the [L][D] inputs load contiguously, B_t[n] and C_t[n] are broadcasts, and A is transposed per tile to
 * [N][V] so that no step needs a horizontal reduction in the forward. Discretisation, Δ's softplus and gap,
 * the scan, the C contraction, D·u and the gate are fused into one pass. ZOH takes one EXPM1 per element
 * (dA = 1 + expm1(Δa), f = expm1(Δa)·(1/a)).
 *
 * <p>The backward recomputes each chunk's states from the stored entering state into a [chunk+1][N][V]
 * buffer (one channel vector at a time, so it stays in L2), then runs the adjoint in reverse.
 */
final class VectorScan {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Below this |Δa| the closed form of ∂f/∂a cancels in fp32: use its series instead. */
    private static final float SERIES_LIMIT = 0.1f;

    private VectorScan() {}

    /** |A| below this is 0 for the ZOH discretisation: |AΔ| < 1e-17 for any Δ the gap scaling allows. */
    static final float NEGLIGIBLE_A = 1e-20f;

    /** A, 1/A and [A == 0] for one channel vector, transposed to [N][V] (padding lanes: A = −1). */
    private static final class TransposedA {
        final float[] a, invA, isZero;

        TransposedA(ScanBatch in, int cv, int valid) {
            int n = in.stateSize();
            a = new float[n * V];
            invA = new float[n * V];
            isZero = new float[n * V];
            for (int j = 0; j < n; j++) {
                for (int l = 0; l < V; l++) {
                    float v = l < valid ? in.a()[(cv + l) * n + j] : -1f;
                    // Below NEGLIGIBLE_A, 1/a overflows (|a| < 3e-39) long before expm1(aΔ)/a differs from Δ in
                    // fp32: such an A is taken as 0 (f = Δ, dA = 1), as the scalar path's Taylor branch gives.
                    boolean zero = Math.abs(v) < NEGLIGIBLE_A;
                    a[j * V + l] = v;
                    invA[j * V + l] = zero ? 0f : 1f / v;
                    isZero[j * V + l] = zero ? 1f : 0f;
                }
            }
        }
    }

    /** Δ for V channels at flat index i (softplus with passthrough above 20, then the gap). */
    private static FloatVector delta(ScanBatch in, int row, int i, FloatVector bias, VectorMask<Float> m) {
        FloatVector pre = FloatVector.fromArray(S, in.deltaRaw(), i, m).add(bias);
        FloatVector dl = pre;
        if (in.deltaSoftplus()) {
            FloatVector sp = pre.lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P);
            dl = sp.blend(pre, pre.compare(VectorOperators.GT, Activations.SOFTPLUS_THRESHOLD));
        }
        return in.gap() == null ? dl : dl.mul(in.gap()[row]);
    }

    // Optional per-channel vectors are zero rather than null: a vector that may merge with null is boxed by C2.
    private static FloatVector bias(ScanBatch in, int cv, VectorMask<Float> m) {
        return in.deltaBias() == null ? FloatVector.zero(S) : FloatVector.fromArray(S, in.deltaBias(), cv, m);
    }

    private static FloatVector skip(ScanBatch in, int cv, VectorMask<Float> m) {
        return in.d() == null ? FloatVector.zero(S) : FloatVector.fromArray(S, in.d(), cv, m);
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(S, v);
    }

    private static FloatVector silu(FloatVector z) {
        return z.div(z.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    private static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    static void forwardTile(ScanBatch in, int b, int c0, int c1, float[] h, float[] y, float[] chunkStates,
                            int chunkLength) {
        int n = in.stateSize();
        float[] hT = new float[n * V];
        for (int cv = c0; cv < c1; cv += V) {
            int valid = Math.min(V, c1 - cv);
            VectorMask<Float> m = S.indexInRange(cv, c1);
            TransposedA at = new TransposedA(in, cv, valid);
            loadState(h, (b * in.channels() + cv) * n, n, valid, hT);
            scanRange(in, b, cv, m, at, hT, 0, in.length(), y, chunkStates, chunkLength, null);
            storeState(hT, n, valid, h, (b * in.channels() + cv) * n);
        }
    }

    /**
     * Runs steps [from, to) of sequence b for the channel vector at cv, state hT ([N][V]) in place. Writes y
     * when y is not null, the entering state of each chunk when chunkStates is not null, and every state
     * (states[s] = after step from + s − 1) when states is not null.
     */
    private static void scanRange(ScanBatch in, int b, int cv, VectorMask<Float> m, TransposedA at, float[] hT,
                                  int from, int to, float[] y, float[] chunkStates, int chunkLength, float[] states) {
        int len = in.length(), dd = in.channels(), n = in.stateSize(), chunks = in.chunks(chunkLength);
        int valid = Math.min(V, dd - cv);
        Discretization disc = in.discretization();
        boolean zoh = disc == Discretization.ZOH, bilinear = disc == Discretization.BILINEAR;
        FloatVector bias = bias(in, cv, m);
        FloatVector dSkip = skip(in, cv, m);
        boolean gated = in.z() != null;
        float[] bs = in.b(), cs = in.c();
        if (states != null) System.arraycopy(hT, 0, states, 0, n * V);
        for (int t = from; t < to; t++) {
            if (chunkStates != null && t % chunkLength == 0) {
                storeState(hT, n, valid, chunkStates, ((b * chunks + t / chunkLength) * dd + cv) * n);
            }
            if (in.resetAt(b, t)) java.util.Arrays.fill(hT, 0f);
            int row = b * len + t, i = row * dd + cv, bc = row * n;
            FloatVector dl = delta(in, row, i, bias, m);
            FloatVector u = FloatVector.fromArray(S, in.u(), i, m);
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector av = FloatVector.fromArray(S, at.a, j * V);
                FloatVector x = dl.mul(av), dA, f;
                if (zoh) {
                    FloatVector em = x.lanewise(VectorOperators.EXPM1);
                    dA = em.add(1f);
                    f = em.mul(FloatVector.fromArray(S, at.invA, j * V))
                            .add(dl.mul(FloatVector.fromArray(S, at.isZero, j * V)));
                } else if (bilinear) {
                    FloatVector q = FloatVector.broadcast(S, 1f).div(x.mul(-0.5f).add(1f));
                    dA = x.mul(0.5f).add(1f).mul(q);
                    f = dl.mul(q);
                } else {
                    dA = x.lanewise(VectorOperators.EXP);
                    f = dl;
                }
                FloatVector hv = FloatVector.fromArray(S, hT, j * V);
                hv = hv.fma(dA, f.mul(u).mul(bs[bc + j]));
                hv.intoArray(hT, j * V);
                acc = hv.fma(FloatVector.broadcast(S, cs[bc + j]), acc);
            }
            if (states != null) System.arraycopy(hT, 0, states, (t - from + 1) * n * V, n * V);
            if (y != null) {
                acc = u.fma(dSkip, acc);
                if (gated) acc = acc.mul(silu(FloatVector.fromArray(S, in.z(), i, m)));
                acc.intoArray(y, i, m);
            }
        }
    }

    /** [valid channels][N] at src[off..] into [N][V] (padding lanes zero). */
    private static void loadState(float[] src, int off, int n, int valid, float[] hT) {
        java.util.Arrays.fill(hT, 0f);
        if (src == null) return;
        for (int l = 0; l < valid; l++) {
            for (int j = 0; j < n; j++) hT[j * V + l] = src[off + l * n + j];
        }
    }

    private static void storeState(float[] hT, int n, int valid, float[] dst, int off) {
        for (int l = 0; l < valid; l++) {
            for (int j = 0; j < n; j++) dst[off + l * n + j] = hT[j * V + l];
        }
    }

    /** Per channel vector accumulators of the backward that live across steps. */
    private static final class Adjoint {
        final float[] carry, daAcc, dd = new float[V], dBias = new float[V], lanes = new float[6 * V];

        Adjoint(int n) {
            carry = new float[n * V];
            daAcc = new float[n * V];
        }

        void clear() {
            java.util.Arrays.fill(carry, 0f);
            java.util.Arrays.fill(daAcc, 0f);
            java.util.Arrays.fill(dd, 0f);
            java.util.Arrays.fill(dBias, 0f);
        }
    }

    static void backwardTile(ScanBatch in, int b, int c0, int c1, float[] h0, float[] chunkStates, int chunkLength,
                             float[] dy, ScanGradients out, ScanTilePartials partial) {
        int len = in.length(), dd = in.channels(), n = in.stateSize(), chunks = in.chunks(chunkLength);
        float[] states = new float[(Math.min(len, chunkLength) + 1) * n * V];
        float[] hT = new float[n * V];
        Adjoint adj = new Adjoint(n);
        for (int cv = c0; cv < c1; cv += V) {
            int valid = Math.min(V, c1 - cv);
            VectorMask<Float> m = S.indexInRange(cv, c1);
            TransposedA at = new TransposedA(in, cv, valid);
            adj.clear();
            for (int k = chunks - 1; k >= 0; k--) {
                int from = k * chunkLength, to = Math.min(len, from + chunkLength);
                if (k == 0) loadState(h0, (b * dd + cv) * n, n, valid, hT);
                else loadState(chunkStates, ((b * chunks + k) * dd + cv) * n, n, valid, hT);
                scanRange(in, b, cv, m, at, hT, from, to, null, null, chunkLength, states);
                for (int t = to - 1; t >= from; t--) {
                    adjointStep(in, b, t, cv, m, at, states, (t - from) * n * V, dy, out, partial, adj);
                }
            }
            int local = cv - c0;
            for (int l = 0; l < valid; l++) {
                for (int j = 0; j < n; j++) {
                    out.dh0()[(b * dd + cv + l) * n + j] += adj.carry[j * V + l];
                    partial.da[(local + l) * n + j] += adj.daAcc[j * V + l];
                }
                partial.dd[local + l] += adj.dd[l];
                partial.dDeltaBias[local + l] += adj.dBias[l];
            }
        }
    }

    /**
     * One reverse step t for the channel vector at cv: g = carry + C_t·dŷ is ∂L/∂h_t; adds this step's terms of
     * du, dΔ (through softplus and gap into dDeltaRaw), dz, dB, dC, dA, dD and leaves carry = g·dA_t (0 after a
     * reset). states[prev] is h_{t−1}, states[prev + N·V] is h_t. The loop over N is a method per discretization,
     * exchanging vectors through adj.lanes: one large method would exceed C1's registers and never reach C2.
     */
    private static void adjointStep(ScanBatch in, int b, int t, int cv, VectorMask<Float> m, TransposedA at,
                                    float[] states, int prev, float[] dy, ScanGradients out, ScanTilePartials partial,
                                    Adjoint adj) {
        int row = b * in.length() + t, i = row * in.channels() + cv;
        adjointInputs(in, row, i, cv, m, dy, adj.lanes);
        adjointOverStates(in, t, row * in.stateSize(), at, states, prev, in.resetAt(b, t), partial, adj);
        adjointOutputs(in, row, i, cv, m, dy, out, adj);
    }

    /** Δ, u and dŷ = dy·SiLU(z) of one step into adj.lanes. */
    private static void adjointInputs(ScanBatch in, int row, int i, int cv, VectorMask<Float> m, float[] dy,
                                      float[] lanes) {
        delta(in, row, i, bias(in, cv, m), m).intoArray(lanes, DL);
        FloatVector.fromArray(S, in.u(), i, m).intoArray(lanes, U);
        FloatVector dyv = FloatVector.fromArray(S, dy, i, m);
        if (in.z() != null) dyv = dyv.mul(silu(FloatVector.fromArray(S, in.z(), i, m)));
        dyv.intoArray(lanes, DY_HAT);
    }

    /** D·u, the gate's gradient, du, and Δ's chain through softplus and gap, from adj.lanes. */
    private static void adjointOutputs(ScanBatch in, int row, int i, int cv, VectorMask<Float> m, float[] dy,
                                       ScanGradients out, Adjoint adj) {
        float[] lanes = adj.lanes;
        FloatVector dSkip = skip(in, cv, m), u = FloatVector.fromArray(S, lanes, U);
        FloatVector dyHat = FloatVector.fromArray(S, lanes, DY_HAT);
        FloatVector.fromArray(S, adj.dd, 0).add(dyHat.mul(u)).intoArray(adj.dd, 0);
        if (in.z() != null) gateGradient(in, i, m, dy, u.fma(dSkip, FloatVector.fromArray(S, lanes, Y_HAT)), out);
        FloatVector du = dyHat.fma(dSkip, FloatVector.fromArray(S, lanes, DU));
        FloatVector.fromArray(S, out.du(), i, m).add(du).intoArray(out.du(), i, m);
        FloatVector dPre = FloatVector.fromArray(S, lanes, D_DELTA)
                .mul(deltaByPreActivation(in, row, i, bias(in, cv, m), m));
        FloatVector.fromArray(S, out.dDeltaRaw(), i, m).add(dPre).intoArray(out.dDeltaRaw(), i, m);
        FloatVector.fromArray(S, adj.dBias, 0).add(dPre).intoArray(adj.dBias, 0);
    }

    /** dz += dy·ŷ·SiLU'(z), SiLU'(z) = σ(z)·(1 + z·(1 − σ(z))). */
    private static void gateGradient(ScanBatch in, int i, VectorMask<Float> m, float[] dy, FloatVector yHat,
                                     ScanGradients out) {
        FloatVector zv = FloatVector.fromArray(S, in.z(), i, m), s = sigmoid(zv);
        FloatVector siluGrad = s.mul(zv.mul(s.neg().add(1f)).add(1f));
        FloatVector dyv = FloatVector.fromArray(S, dy, i, m);
        FloatVector.fromArray(S, out.dz(), i, m).add(dyv.mul(yHat).mul(siluGrad)).intoArray(out.dz(), i, m);
    }

    // Offsets of the vectors exchanged through Adjoint.lanes.
    private static final int DL = 0, U = V, DY_HAT = 2 * V, Y_HAT = 3 * V, DU = 4 * V, D_DELTA = 5 * V;

    /**
     * The loop over the state of one reverse step. Every discretization is written as dA, f, ∂dA/∂Δ = a·P,
     * ∂dA/∂a = Δ·P, ∂f/∂Δ = Q, ∂f/∂a = R: ZOH P = Q = dA, R = (x·dA − expm1 x)/a² (series for small x = Δa);
     * Euler P = dA, Q = 1, R = 0; bilinear with q = 1/(1 − x/2): P = Q = q², R = Δ²q²/2.
     */
    private static void adjointOverStates(ScanBatch in, int t, int bc, TransposedA at, float[] states, int prev,
                                          boolean reset, ScanTilePartials partial, Adjoint adj) {
        int n = in.stateSize(), cur = prev + n * V;
        Discretization disc = in.discretization();
        boolean zoh = disc == Discretization.ZOH, bilinear = disc == Discretization.BILINEAR;
        float[] lanes = adj.lanes, carry = adj.carry, daAcc = adj.daAcc, bs = in.b(), cs = in.c();
        FloatVector dl = FloatVector.fromArray(S, lanes, DL), u = FloatVector.fromArray(S, lanes, U);
        FloatVector dyHat = FloatVector.fromArray(S, lanes, DY_HAT), dl2 = dl.mul(dl), zero = FloatVector.zero(S);
        FloatVector yHat = zero, du = zero, dDelta = zero;
        for (int j = 0; j < n; j++) {
            int o = j * V;
            FloatVector av = FloatVector.fromArray(S, at.a, o), x = dl.mul(av), dA, f, p, q, r;
            if (zoh) {
                FloatVector inv = FloatVector.fromArray(S, at.invA, o), em = x.lanewise(VectorOperators.EXPM1);
                dA = em.add(1f);
                f = em.mul(inv).add(dl.mul(FloatVector.fromArray(S, at.isZero, o)));
                p = dA;
                q = dA;
                FloatVector closed = x.mul(dA).sub(em).mul(inv).mul(inv);
                FloatVector series = x.fma(bc(1f / 144), bc(1f / 30)).fma(x, bc(1f / 8)).fma(x, bc(1f / 3))
                        .fma(x, bc(0.5f)).mul(dl2);
                r = closed.blend(series, x.abs().compare(VectorOperators.LT, SERIES_LIMIT));
            } else if (bilinear) {
                FloatVector qq = bc(1f).div(x.mul(-0.5f).add(1f));
                dA = x.mul(0.5f).add(1f).mul(qq);
                f = dl.mul(qq);
                p = qq.mul(qq);
                q = p;
                r = dl2.mul(p).mul(0.5f);
            } else {
                dA = x.lanewise(VectorOperators.EXP);
                f = dl;
                p = dA;
                q = bc(1f);
                r = zero;
            }
            FloatVector bjv = bc(bs[bc + j]), cjv = bc(cs[bc + j]);
            FloatVector hPrev = reset ? zero : FloatVector.fromArray(S, states, prev + o);
            FloatVector hCur = FloatVector.fromArray(S, states, cur + o);
            FloatVector g = dyHat.fma(cjv, FloatVector.fromArray(S, carry, o));
            yHat = hCur.fma(cjv, yHat);
            partial.dc[t * n + j] += dyHat.mul(hCur).reduceLanes(VectorOperators.ADD);
            FloatVector gf = g.mul(f), bu = u.mul(bjv), gpHPrev = g.mul(p).mul(hPrev);
            partial.db[t * n + j] += gf.mul(u).reduceLanes(VectorOperators.ADD);
            du = gf.fma(bjv, du);
            dDelta = gpHPrev.fma(av, g.mul(q).fma(bu, dDelta));
            gpHPrev.fma(dl, g.mul(r).fma(bu, FloatVector.fromArray(S, daAcc, o))).intoArray(daAcc, o);
            (reset ? zero : g.mul(dA)).intoArray(carry, o);
        }
        yHat.intoArray(lanes, Y_HAT);
        du.intoArray(lanes, DU);
        dDelta.intoArray(lanes, D_DELTA);
    }

    /** ∂Δ/∂(deltaRaw + bias): the gap, times sigmoid where softplus applies below its passthrough threshold. */
    private static FloatVector deltaByPreActivation(ScanBatch in, int row, int i, FloatVector bias,
                                                    VectorMask<Float> m) {
        float gap = in.gap() == null ? 1f : in.gap()[row];
        if (!in.deltaSoftplus()) return FloatVector.broadcast(S, gap);
        FloatVector pre = FloatVector.fromArray(S, in.deltaRaw(), i, m).add(bias);
        return sigmoid(pre).blend(1f, pre.compare(VectorOperators.GT, Activations.SOFTPLUS_THRESHOLD)).mul(gap);
    }
}
