package io.sidewinder.ssm.kernels.simd;

import io.sidewinder.ssm.kernels.ScalarRmsNorm;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm on the Vector API, one row at a time: the sum of squares (or, backward, Σ dy·w·x) as one FMA chain and
 * a lane reduction, then one fused pass that scales (or forms dx and accumulates dw).
 */
final class VectorRmsNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorRmsNorm() {}

    static void forward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        for (int r = 0; r < rows; r++) {
            int off = r * width;
            FloatVector ss = FloatVector.zero(S);
            for (int k = 0; k < width; k += S.length()) {
                VectorMask<Float> m = S.indexInRange(k, width);
                FloatVector v = FloatVector.fromArray(S, x, off + k, m);
                ss = v.fma(v, ss);
            }
            float inv = ScalarRmsNorm.inverseRms(ss.reduceLanes(VectorOperators.ADD), width, eps);
            for (int k = 0; k < width; k += S.length()) {
                VectorMask<Float> m = S.indexInRange(k, width);
                FloatVector.fromArray(S, x, off + k, m).mul(inv).mul(FloatVector.fromArray(S, w, k, m))
                        .intoArray(y, off + k, m);
            }
            if (rstd != null) rstd[r] = inv;
        }
    }

    static void backward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                         float[] dw) {
        for (int r = 0; r < rows; r++) {
            int off = r * width;
            float inv = rstd[r];
            FloatVector dot = FloatVector.zero(S);
            for (int k = 0; k < width; k += S.length()) {
                VectorMask<Float> m = S.indexInRange(k, width);
                FloatVector g = FloatVector.fromArray(S, dy, off + k, m).mul(FloatVector.fromArray(S, w, k, m));
                dot = g.fma(FloatVector.fromArray(S, x, off + k, m), dot);
            }
            float coef = inv * inv * dot.reduceLanes(VectorOperators.ADD) / width;
            for (int k = 0; k < width; k += S.length()) {
                VectorMask<Float> m = S.indexInRange(k, width);
                FloatVector g = FloatVector.fromArray(S, dy, off + k, m);
                FloatVector xv = FloatVector.fromArray(S, x, off + k, m);
                FloatVector wv = FloatVector.fromArray(S, w, k, m);
                FloatVector dxv = g.mul(wv).sub(xv.mul(coef)).mul(inv);
                dxv.add(FloatVector.fromArray(S, dx, off + k, m)).intoArray(dx, off + k, m);
                g.mul(xv).mul(inv).add(FloatVector.fromArray(S, dw, k, m)).intoArray(dw, k, m);
            }
        }
    }
}
