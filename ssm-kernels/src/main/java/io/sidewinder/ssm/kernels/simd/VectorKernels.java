package io.sidewinder.ssm.kernels.simd;

import io.sidewinder.ssm.Activations;
import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.kernels.ScalarConv;
import io.sidewinder.ssm.kernels.ScalarGemm;
import io.sidewinder.ssm.kernels.ScalarRmsNorm;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.ScanTilePartials;
import io.sidewinder.ssm.kernels.ScanTiling;
import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.ssm.kernels.TiledScan;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels on the Vector API (the only package that imports jdk.incubator.vector). Matrix-vector products
 * accumulate with FMA along the row; the scan step vectorises over the state dimension N, using the
 * intrinsic fp32 EXP/EXPM1 (≤ 1 ulp) instead of double Math.exp.
 */
public final class VectorKernels implements SsmKernels, TiledScan {
    public static final VectorKernels INSTANCE = new VectorKernels();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorKernels() {}

    @Override
    public String name() {
        return "simd(" + S.vectorBitSize() + "-bit)";
    }

    @Override
    public void matVec(float[] w, float[] bias, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        int upper = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            FloatVector acc = FloatVector.zero(S);
            int k = 0;
            for (; k < upper; k += S.length()) {
                acc = FloatVector.fromArray(S, w, base + k).fma(FloatVector.fromArray(S, x, xOff + k), acc);
            }
            if (k < cols) {
                VectorMask<Float> m = S.indexInRange(k, cols);
                acc = FloatVector.fromArray(S, w, base + k, m).fma(FloatVector.fromArray(S, x, xOff + k, m), acc);
            }
            float s = acc.reduceLanes(VectorOperators.ADD);
            y[yOff + r] = bias == null ? s : s + bias[r];
        }
    }

    @Override
    public void matVecTransposed(float[] wT, float[] bias, int rows, int cols, float[] x, int xOff, float[] y,
                                 int yOff) {
        // Four row vectors at a time: four independent FMA chains over k instead of one, whose latency bound the
        // product (the serving path's lag readout and head; ForecasterBenchmark). Each row still sums k in order, so
        // the results are the same bits as one row vector at a time.
        int len = S.length(), r = 0;
        for (; r + 4 * len <= rows; r += 4 * len) {
            FloatVector a0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, r);
            FloatVector a1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, r + len);
            FloatVector a2 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, r + 2 * len);
            FloatVector a3 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, r + 3 * len);
            for (int k = 0; k < cols; k++) {
                FloatVector xk = FloatVector.broadcast(S, x[xOff + k]);
                int at = k * rows + r;
                a0 = FloatVector.fromArray(S, wT, at).fma(xk, a0);
                a1 = FloatVector.fromArray(S, wT, at + len).fma(xk, a1);
                a2 = FloatVector.fromArray(S, wT, at + 2 * len).fma(xk, a2);
                a3 = FloatVector.fromArray(S, wT, at + 3 * len).fma(xk, a3);
            }
            a0.intoArray(y, yOff + r);
            a1.intoArray(y, yOff + r + len);
            a2.intoArray(y, yOff + r + 2 * len);
            a3.intoArray(y, yOff + r + 3 * len);
        }
        for (; r < rows; r += len) {
            VectorMask<Float> m = S.indexInRange(r, rows);
            FloatVector acc = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, r, m);
            for (int k = 0; k < cols; k++) {
                acc = FloatVector.fromArray(S, wT, k * rows + r, m).fma(FloatVector.broadcast(S, x[xOff + k]), acc);
            }
            acc.intoArray(y, yOff + r, m);
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        ScalarGemm.checkShapes(m, n, k, a, b, bias, c);
        VectorGemm.gemm(transA, transB, m, n, k, a, b, bias, c, accumulate);
    }

    @Override
    public void causalConvForward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                                  float[] bias, float[] y) {
        ScalarConv.checkShapes(batch, length, channels, width, x, prefix, w, y);
        VectorConv.forward(batch, length, channels, width, x, prefix, w, bias, y);
    }

    @Override
    public void causalConvBackward(int batch, int length, int channels, int width, float[] x, float[] prefix,
                                   float[] w, float[] dy, float[] dx, float[] dw, float[] dbias) {
        ScalarConv.checkShapes(batch, length, channels, width, x, prefix, w, dx);
        VectorConv.backward(batch, length, channels, width, x, prefix, w, dy, dx, dw, dbias);
    }

    @Override
    public void rmsNormForward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        ScalarRmsNorm.checkShapes(rows, width, x, w, y, rstd);
        VectorRmsNorm.forward(rows, width, x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                                float[] dw) {
        ScalarRmsNorm.checkShapes(rows, width, x, w, dx, rstd);
        VectorRmsNorm.backward(rows, width, x, w, rstd, dy, dx, dw);
    }

    @Override
    public void siluBackward(float[] x, float[] dy, float[] dx, int len) {
        for (int i = 0; i < len; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(S, x, i, m);
            FloatVector sig = FloatVector.broadcast(S, 1f).div(v.neg().lanewise(VectorOperators.EXP).add(1f));
            // σ·(1 + x·(1 − σ))
            FloatVector d = v.mul(sig.neg().add(1f)).add(1f).mul(sig);
            FloatVector.fromArray(S, dy, i, m).mul(d).intoArray(dx, i, m);
        }
    }

    @Override
    public void softplusInPlace(float[] x, int off, int len, float scale) {
        for (int i = 0; i < len; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(S, x, off + i, m);
            FloatVector sp = v.lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P);
            VectorMask<Float> big = v.compare(VectorOperators.GT, Activations.SOFTPLUS_THRESHOLD);
            sp.blend(v, big).mul(scale).intoArray(x, off + i, m);
        }
    }

    @Override
    public void siluInPlace(float[] x, int off, int len) {
        for (int i = 0; i < len; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(S, x, off + i, m);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(x, off + i, m);
        }
    }

    @Override
    public void expInPlace(float[] x, int off, int len) {
        for (int i = 0; i < len; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector.fromArray(S, x, off + i, m).lanewise(VectorOperators.EXP).intoArray(x, off + i, m);
        }
    }

    @Override
    public void scanStep(int channels, int n, float[] delta, float[] u, float[] a, float[] b, int bOff, float[] c,
                         int cOff, Discretization disc, float[] h, float[] y) {
        for (int d = 0; d < channels; d++) {
            float dl = delta[d], ud = u[d];
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < n; j += S.length()) {
                VectorMask<Float> m = S.indexInRange(j, n);
                FloatVector av = FloatVector.fromArray(S, a, d * n + j, m);
                FloatVector x = av.mul(dl);
                FloatVector dA, f;
                switch (disc) {
                    case ZOH -> {
                        // One transcendental: dA = 1 + expm1(Δa) loses nothing that matters in fp32.
                        FloatVector em = x.lanewise(VectorOperators.EXPM1);
                        dA = em.add(1f);
                        // expm1(aΔ)/a is Δ where a is negligible (and 0/0 where a underflowed to 0)
                        f = em.div(av, m).blend(FloatVector.broadcast(S, dl),
                                av.abs().compare(VectorOperators.LT, VectorScan.NEGLIGIBLE_A));
                    }
                    case EULER -> {
                        dA = x.lanewise(VectorOperators.EXP);
                        f = FloatVector.broadcast(S, dl);
                    }
                    case BILINEAR -> {
                        FloatVector den = x.mul(-0.5f).add(1f);
                        dA = x.mul(0.5f).add(1f).div(den, m);
                        f = FloatVector.broadcast(S, dl).div(den, m);
                    }
                    default -> throw new IllegalArgumentException(disc.name());
                }
                FloatVector bv = FloatVector.fromArray(S, b, bOff + j, m);
                FloatVector hv = FloatVector.fromArray(S, h, d * n + j, m);
                hv = dA.mul(hv).add(f.mul(bv).mul(ud));
                hv.intoArray(h, d * n + j, m);
                acc = FloatVector.fromArray(S, c, cOff + j, m).fma(hv, acc);
            }
            y[d] = acc.reduceLanes(VectorOperators.ADD);
        }
    }

    @Override
    public void scanForward(ScanBatch in, float[] h, float[] y, float[] chunkStates, int chunkLength) {
        ScanTiling.forward(this, in, h, y, chunkStates, chunkLength, null);
    }

    @Override
    public void scanBackward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                             ScanGradients out) {
        ScanTiling.backward(this, in, h0, chunkStates, chunkLength, dy, out, null);
    }

    @Override
    public void scanForwardTile(ScanBatch in, int b, int c0, int c1, float[] h, float[] y, float[] chunkStates,
                                int chunkLength) {
        VectorScan.forwardTile(in, b, c0, c1, h, y, chunkStates, chunkLength);
    }

    @Override
    public void scanBackwardTile(ScanBatch in, int b, int c0, int c1, float[] h0, float[] chunkStates,
                                 int chunkLength, float[] dy, ScanGradients out, ScanTilePartials partial) {
        VectorScan.backwardTile(in, b, c0, c1, h0, chunkStates, chunkLength, dy, out, partial);
    }
}
