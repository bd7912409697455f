package io.sidewinder.ssm.kernels;

/**
 * The reference GEMM (see {@link SsmKernels#gemm}): one fp32 dot product per output element, summed in k order.
 * Plain on purpose — it is the scalar baseline the SIMD GEMM is compared and benchmarked against.
 */
public final class ScalarGemm {
    private ScalarGemm() {}

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                if (bias != null) s += bias[j];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
        }
    }

    /** Throws unless the arrays hold the shapes (a shared precondition of every backend). */
    public static void checkShapes(int m, int n, int k, float[] a, float[] b, float[] bias, float[] c) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative gemm shape " + m + "x" + n + "x" + k);
        }
        if (a.length < (long) m * k || b.length < (long) k * n || c.length < (long) m * n
                || (bias != null && bias.length < n)) {
            throw new IllegalArgumentException("gemm " + m + "x" + n + "x" + k + ": arrays too short (a " + a.length
                    + ", b " + b.length + ", c " + c.length + ")");
        }
    }
}
