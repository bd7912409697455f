package io.sidewinder.ssm.kernels;

import io.sidewinder.ssm.Discretization;

/**
 * The hot loops of the model, behind one interface so that a backend can be chosen once at start-up
 * ({@link Kernels#get()}): {@link ScalarKernels} is the plain-Java reference, the SIMD backend
 * (jdk.incubator.vector) must agree with it within fp32 tolerance. Implementations are stateless and
 * thread-safe.
 */
public interface SsmKernels {

    /** A short name for logs and benchmarks, e.g. "scalar" or "simd(512-bit)". */
    String name();

    /** y[yOff + r] = Σ_k W[r·cols + k]·x[xOff + k] (+ bias[r] when bias is not null), for r &lt; rows. */
    void matVec(float[] w, float[] bias, int rows, int cols, float[] x, int xOff, float[] y, int yOff);

    /**
     * The same product from the transposed matrix wT = Wᵀ ([cols][rows]): y[yOff + r] = Σ_k wT[k·rows + r]·x[xOff + k]
     * (+ bias[r]). Lets a vector backend run over rows with broadcasts of x and no horizontal sums, which is what
     * the streaming step's small matrices need. The default is the plain loop.
     */
    default void matVecTransposed(float[] wT, float[] bias, int rows, int cols, float[] x, int xOff, float[] y,
                                  int yOff) {
        for (int r = 0; r < rows; r++) {
            y[yOff + r] = bias == null ? 0f : bias[r];
        }
        for (int k = 0; k < cols; k++) {
            float xk = x[xOff + k];
            int base = k * rows;
            for (int r = 0; r < rows; r++) {
                y[yOff + r] += wT[base + r] * xk;
            }
        }
    }

    /**
     * General matrix product, row-major: C = op(A)·op(B) (+ bias[j] on every row) (+ the old C when
     * {@code accumulate}). op(A) is [m][k]: A is stored [m][k], or [k][m] when {@code transA}; op(B) is [k][n]: B
     * is stored [k][n], or [n][k] when {@code transB}; C is [m][n]; bias is [n] or null. A linear layer
     * y = x·Wᵀ + b over rows (W [out][in]) is {@code gemm(false, true, rows, out, in, x, W, b, y, false)}; its
     * backward is dx = dy·W ({@code gemm(false, false, rows, in, out, dy, W, null, dx, …)}) and
     * dW += dyᵀ·x ({@code gemm(true, false, out, in, rows, dy, x, null, dW, true)}).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias, float[] c,
              boolean accumulate);

    /**
     * Causal depthwise convolution (PyTorch conv1d, groups = channels, padding width−1, first L outputs) over
     * x [batch][length][channels]: y[b][t][d] = bias[d] + Σ_j w[d·width + j]·x[b][t − (width−1) + j][d], where
     * times before 0 read {@code prefix} [batch][width−1][channels] (the inputs before the sequence, oldest
     * first; null = zeros). bias may be null. y is written.
     */
    void causalConvForward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                           float[] bias, float[] y);

    /**
     * The backward of {@link #causalConvForward}: ADDS ∂/∂x into dx, ∂/∂w into dw [channels][width] and ∂/∂bias
     * into dbias (null = not wanted). The prefix is treated as a constant.
     */
    void causalConvBackward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                            float[] dy, float[] dx, float[] dw, float[] dbias);

    /**
     * RMSNorm of every row of x [rows][width]: y = x·rstd·w with rstd = 1/sqrt(mean(x²) + eps), in one pass per
     * row; rstd [rows] is written when not null (what the backward needs).
     */
    void rmsNormForward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd);

    /**
     * The backward of {@link #rmsNormForward} with its rstd: ADDS dx = rstd·(g − x·rstd²·mean(g·x)), g = dy·w,
     * and dw += Σ_rows dy·x·rstd.
     */
    void rmsNormBackward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx, float[] dw);

    /** dx[i] = dy[i]·SiLU'(x[i]) for i &lt; len (written), SiLU'(x) = σ(x)·(1 + x·(1 − σ(x))). */
    void siluBackward(float[] x, float[] dy, float[] dx, int len);

    /** x[off .. off+len) = softplus(x)·scale in place (passthrough above {@link io.sidewinder.ssm.Activations#SOFTPLUS_THRESHOLD}). */
    void softplusInPlace(float[] x, int off, int len, float scale);

    /** x[off .. off+len) = SiLU(x) in place. */
    void siluInPlace(float[] x, int off, int len);

    /**
     * x[off .. off+len) = exp(x) in place (the forecast's standard deviations from its log-variances). The default
     * is the plain loop over {@link Math#exp}.
     */
    default void expInPlace(float[] x, int off, int len) {
        for (int i = off; i < off + len; i++) {
            x[i] = (float) Math.exp(x[i]);
        }
    }

    /**
     * One recurrent selective-scan step for every channel d &lt; channels, with a state of n per channel:
     * h[d·n + j] = dA·h + f(Δ_d, A)·B_j·u_d with dA = exp(Δ_d·A[d·n + j]), then
     * y[d] = Σ_j C_j·h[d·n + j]. B is read at b[bOff + j], C at c[cOff + j]. D·u and the gate are the caller's.
     */
    void scanStep(int channels, int n, float[] delta, float[] u, float[] a, float[] b, int bOff, float[] c, int cOff,
                  Discretization discretization, float[] h, float[] y);

    /**
     * Batched selective scan forward (see {@link ScanBatch} for the formulas and layouts).
     *
     * @param h [batch][channels][stateSize]: the initial state on entry (zeros = none), the final state on exit
     * @param y [batch][length][channels], written
     * @param chunkStates [batch][ceil(length/chunkLength)][channels][stateSize], written with the state ENTERING
     *     each chunk (before any reset at the chunk's first step), for {@link #scanBackward}; null when no
     *     backward follows
     * @param chunkLength steps per chunk between stored states
     */
    void scanForward(ScanBatch in, float[] h, float[] y, float[] chunkStates, int chunkLength);

    /**
     * Batched selective scan backward: recomputes each chunk's states from its stored entering state (never
     * materialising [batch][length][channels][stateSize]), runs the reverse scan of the adjoint and ADDS the
     * gradients of Σ dy·y into {@code out}, dh0 included. There is no gradient through the final state.
     *
     * @param h0 the initial state given to the forward, [batch][channels][stateSize], or null for zeros
     * @param chunkStates as written by {@link #scanForward} with the same chunkLength
     * @param dy [batch][length][channels], ∂loss/∂y
     */
    void scanBackward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy, ScanGradients out);
}
