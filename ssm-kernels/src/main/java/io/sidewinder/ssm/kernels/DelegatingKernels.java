package io.sidewinder.ssm.kernels;

import io.sidewinder.ssm.Discretization;

/**
 * A backend that runs every operation on another backend except the batch scan, which subclasses provide
 * ({@link ParallelKernels}: tiles on a thread pool; the CUDA backend: on the GPU). One place forwards the
 * interface, so a new kernel cannot silently fall back to a default in one wrapper and not another.
 */
public abstract class DelegatingKernels implements SsmKernels {
    protected final SsmKernels delegate;

    protected DelegatingKernels(SsmKernels delegate) {
        this.delegate = delegate;
    }

    @Override
    public void matVec(float[] w, float[] bias, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        delegate.matVec(w, bias, rows, cols, x, xOff, y, yOff);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        delegate.gemm(transA, transB, m, n, k, a, b, bias, c, accumulate);
    }

    @Override
    public void causalConvForward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                                  float[] bias, float[] y) {
        delegate.causalConvForward(batch, length, channels, width, x, prefix, w, bias, y);
    }

    @Override
    public void causalConvBackward(int batch, int length, int channels, int width, float[] x, float[] prefix,
                                   float[] w, float[] dy, float[] dx, float[] dw, float[] dbias) {
        delegate.causalConvBackward(batch, length, channels, width, x, prefix, w, dy, dx, dw, dbias);
    }

    @Override
    public void rmsNormForward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        delegate.rmsNormForward(rows, width, x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                                float[] dw) {
        delegate.rmsNormBackward(rows, width, x, w, rstd, dy, dx, dw);
    }

    @Override
    public void siluBackward(float[] x, float[] dy, float[] dx, int len) {
        delegate.siluBackward(x, dy, dx, len);
    }

    @Override
    public void softplusInPlace(float[] x, int off, int len, float scale) {
        delegate.softplusInPlace(x, off, len, scale);
    }

    @Override
    public void siluInPlace(float[] x, int off, int len) {
        delegate.siluInPlace(x, off, len);
    }

    @Override
    public void expInPlace(float[] x, int off, int len) {
        delegate.expInPlace(x, off, len);
    }

    @Override
    public void scanStep(int channels, int n, float[] delta, float[] u, float[] a, float[] b, int bOff, float[] c,
                         int cOff, Discretization discretization, float[] h, float[] y) {
        delegate.scanStep(channels, n, delta, u, a, b, bOff, c, cOff, discretization, h, y);
    }

    @Override
    public void matVecTransposed(float[] wT, float[] bias, int rows, int cols, float[] x, int xOff, float[] y,
                                 int yOff) {
        delegate.matVecTransposed(wT, bias, rows, cols, x, xOff, y, yOff);
    }
}
