package io.sidewinder.ssm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked SIMD GEMM (the contract of {@link io.sidewinder.ssm.kernels.SsmKernels#gemm}), GotoBLAS-style:
 * for every block of KC steps of k, op(A) is packed into panels of MR rows ([p][MR]) and op(B) into panels of
 * NR = 2 vectors of columns ([p][NR]), zero-padded, so that transposes cost only the packing and the inner loop
 * has no masks. The micro-kernel keeps an MR × NR tile of C in 12 vector registers and does MR broadcasts,
 * 2 loads and 2·MR FMAs per step of k; a B panel (KC·NR floats) stays in L1 while the A panels stream past it.
 */
final class VectorGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    static final int MR = 6;
    static final int NR = 2 * V;
    static final int KC = 256;

    /** Packing buffers and the tile written back from registers, reused per thread (no garbage per call). */
    private static final class Scratch {
        float[] a = new float[0], b = new float[0];
        final float[] tile = new float[MR * NR];

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorGemm() {}

    static void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            initialise(m, n, bias, c, accumulate);
            return;
        }
        Scratch s = SCRATCH.get();
        int mPanels = (m + MR - 1) / MR, nPanels = (n + NR - 1) / NR;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = Math.min(KC, k - p0);
            float[] pa = s.a(mPanels * kc * MR), pb = s.b(nPanels * kc * NR);
            packA(transA, m, k, a, p0, kc, pa);
            packB(transB, n, k, b, p0, kc, pb);
            boolean first = p0 == 0;
            for (int jp = 0; jp < nPanels; jp++) {
                for (int ip = 0; ip < mPanels; ip++) {
                    microKernel(pa, ip * kc * MR, pb, jp * kc * NR, kc, s.tile);
                    writeBack(s.tile, c, ip * MR, jp * NR, m, n, first ? bias : null, !first || accumulate);
                }
            }
        }
    }

    /** C = bias (or 0), or C += bias: the k = 0 product. */
    private static void initialise(int m, int n, float[] bias, float[] c, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float v = bias == null ? 0f : bias[j];
                c[i * n + j] = accumulate ? c[i * n + j] + v : v;
            }
        }
    }

    /** pa[(panel·kc + p)·MR + r] = op(A)[panel·MR + r][p0 + p], zero past row m. */
    private static void packA(boolean transA, int m, int k, float[] a, int p0, int kc, float[] pa) {
        int mPanels = (m + MR - 1) / MR;
        for (int ip = 0; ip < mPanels; ip++) {
            int base = ip * kc * MR;
            for (int r = 0; r < MR; r++) {
                int i = ip * MR + r;
                if (i >= m) {
                    for (int p = 0; p < kc; p++) pa[base + p * MR + r] = 0f;
                } else if (transA) {
                    for (int p = 0; p < kc; p++) pa[base + p * MR + r] = a[(p0 + p) * m + i];
                } else {
                    int row = i * k + p0;
                    for (int p = 0; p < kc; p++) pa[base + p * MR + r] = a[row + p];
                }
            }
        }
    }

    /** pb[(panel·kc + p)·NR + col] = op(B)[p0 + p][panel·NR + col], zero past column n. */
    private static void packB(boolean transB, int n, int k, float[] b, int p0, int kc, float[] pb) {
        int nPanels = (n + NR - 1) / NR;
        for (int jp = 0; jp < nPanels; jp++) {
            int base = jp * kc * NR, j0 = jp * NR;
            if (transB) {
                for (int col = 0; col < NR; col++) {
                    int j = j0 + col;
                    for (int p = 0; p < kc; p++) pb[base + p * NR + col] = j < n ? b[j * k + p0 + p] : 0f;
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int src = (p0 + p) * n + j0, dst = base + p * NR;
                    for (int v = 0; v < NR; v += V) {
                        VectorMask<Float> in = S.indexInRange(j0 + v, n);
                        FloatVector.fromArray(S, b, src + v, in).intoArray(pb, dst + v);
                    }
                }
            }
        }
    }

    /** tile[MR][NR] = Σ_p pa[p][r]·pb[p][·] over kc steps, in registers. */
    private static void microKernel(float[] pa, int aOff, float[] pb, int bOff, int kc, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ao = aOff + p * MR, bo = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + V);
            FloatVector x = FloatVector.broadcast(S, pa[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, pa[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, pa[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, V);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + V);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + V);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + V);
    }

    /** C[i0.., j0..] = tile (+ bias) (+ old C when add), clipped to m × n. */
    private static void writeBack(float[] tile, float[] c, int i0, int j0, int m, int n, float[] bias, boolean add) {
        int rows = Math.min(MR, m - i0);
        for (int v = 0; v < NR; v += V) {
            int j = j0 + v;
            if (j >= n) break;
            VectorMask<Float> in = S.indexInRange(j, n);
            // Zero instead of null: a vector merged with null gets boxed.
            FloatVector bv = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, j, in);
            for (int r = 0; r < rows; r++) {
                int off = (i0 + r) * n + j;
                FloatVector t = FloatVector.fromArray(S, tile, r * NR + v).add(bv);
                if (add) t = t.add(FloatVector.fromArray(S, c, off, in));
                t.intoArray(c, off, in);
            }
        }
    }
}
