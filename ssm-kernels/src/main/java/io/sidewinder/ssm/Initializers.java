package io.sidewinder.ssm;

import java.util.random.RandomGenerator;

/** The structured initialisations of S4/S4D and Mamba (formulas in ssm-kernels/README.md). */
public final class Initializers {
    private Initializers() {}

    /** HiPPO-LegS state matrix: A_nk = −sqrt(2n+1)·sqrt(2k+1) for n &gt; k, −(n+1) for n = k, 0 above. */
    public static double[][] hippoLegS(int n) {
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k <= i; k++) {
                a[i][k] = i == k ? -(i + 1) : -Math.sqrt(2 * i + 1) * Math.sqrt(2 * k + 1);
            }
        }
        return a;
    }

    /** HiPPO-LegS input vector B_n = sqrt(2n+1). */
    public static double[] hippoLegSInput(int n) {
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            b[i] = Math.sqrt(2 * i + 1);
        }
        return b;
    }

    /** S4D-Real: A_n = −(n+1), real diagonal. */
    public static double[] s4dReal(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = -(i + 1);
        }
        return a;
    }

    /** S4D-Lin: A_n = −1/2 + iπn, returned as {re[], im[]}. */
    public static double[][] s4dLin(int n) {
        double[] re = new double[n], im = new double[n];
        for (int i = 0; i < n; i++) {
            re[i] = -0.5;
            im[i] = Math.PI * i;
        }
        return new double[][] {re, im};
    }

    /** Mamba's A_log = ln(1..N) for every channel, row-major [channels][N] (A = −exp(A_log) = S4D-Real). */
    public static float[] mambaALog(int channels, int n) {
        float[] aLog = new float[channels * n];
        for (int d = 0; d < channels; d++) {
            for (int i = 0; i < n; i++) {
                aLog[d * n + i] = (float) Math.log(i + 1);
            }
        }
        return aLog;
    }

    /**
     * Mamba's Δ bias: the inverse softplus of Δ ~ exp(U(ln dtMin, ln dtMax)) clamped to &gt;= floor, so that
     * softplus(bias) starts inside [dtMin, dtMax]. Inverse softplus is Δ + log(−expm1(−Δ)).
     */
    public static float[] mambaDtBias(int channels, double dtMin, double dtMax, double floor, RandomGenerator rnd) {
        float[] bias = new float[channels];
        double lo = Math.log(dtMin), hi = Math.log(dtMax);
        for (int d = 0; d < channels; d++) {
            double dt = Math.max(floor, Math.exp(lo + rnd.nextDouble() * (hi - lo)));
            bias[d] = (float) inverseSoftplus(dt);
        }
        return bias;
    }

    public static double inverseSoftplus(double y) {
        return y + Math.log(-Math.expm1(-y));
    }

    /** W ~ U(−bound, bound). */
    public static float[] uniform(int size, double bound, RandomGenerator rnd) {
        float[] w = new float[size];
        for (int i = 0; i < size; i++) {
            w[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
        return w;
    }

    /** PyTorch's nn.Linear default: U(±1/sqrt(fanIn)). */
    public static float[] linear(int out, int in, RandomGenerator rnd) {
        return uniform(out * in, 1 / Math.sqrt(in), rnd);
    }

    /** Mamba's dt_proj weight: U(±R^-1/2) for dt rank R. */
    public static float[] dtProjWeight(int channels, int dtRank, RandomGenerator rnd) {
        return uniform(channels * dtRank, Math.pow(dtRank, -0.5), rnd);
    }

    /** Mamba rescales each block's out_proj by 1/sqrt(layers) so the residual stream's variance stays put. */
    public static void scaleOutProj(float[] weight, int layers) {
        float s = (float) (1 / Math.sqrt(layers));
        for (int i = 0; i < weight.length; i++) {
            weight[i] *= s;
        }
    }

    public static float[] filled(int size, float value) {
        float[] a = new float[size];
        java.util.Arrays.fill(a, value);
        return a;
    }
}
