package io.sidewinder.ssm.kernels;

import io.sidewinder.ssm.Discretization;
import java.util.concurrent.ForkJoinPool;

/**
 * A CPU backend whose batch scan runs its batch × channel-block tiles on a ForkJoinPool of a given size
 * ({@link ScanTiling}); the per-step kernels are the backend's own. Results are bit-identical for every thread
 * count, because tiling and reduction order depend only on the problem's shape.
 */
public final class ParallelKernels implements SsmKernels {
    private final SsmKernels backend;
    private final TiledScan tiles;
    private final ForkJoinPool pool;
    private final int threads;

    /** Wraps a backend that implements {@link TiledScan} (the scalar and SIMD backends do). */
    public ParallelKernels(SsmKernels backend, int threads) {
        if (!(backend instanceof TiledScan t)) {
            throw new IllegalArgumentException(backend.name() + " does not run in tiles");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        this.backend = backend;
        this.tiles = t;
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    public int threads() {
        return threads;
    }

    @Override
    public String name() {
        return backend.name() + "x" + threads;
    }

    @Override
    public void matVec(float[] w, float[] bias, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        backend.matVec(w, bias, rows, cols, x, xOff, y, yOff);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        backend.gemm(transA, transB, m, n, k, a, b, bias, c, accumulate);
    }

    @Override
    public void causalConvForward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                                  float[] bias, float[] y) {
        backend.causalConvForward(batch, length, channels, width, x, prefix, w, bias, y);
    }

    @Override
    public void causalConvBackward(int batch, int length, int channels, int width, float[] x, float[] prefix,
                                   float[] w, float[] dy, float[] dx, float[] dw, float[] dbias) {
        backend.causalConvBackward(batch, length, channels, width, x, prefix, w, dy, dx, dw, dbias);
    }

    @Override
    public void rmsNormForward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        backend.rmsNormForward(rows, width, x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                                float[] dw) {
        backend.rmsNormBackward(rows, width, x, w, rstd, dy, dx, dw);
    }

    @Override
    public void siluBackward(float[] x, float[] dy, float[] dx, int len) {
        backend.siluBackward(x, dy, dx, len);
    }

    @Override
    public void softplusInPlace(float[] x, int off, int len, float scale) {
        backend.softplusInPlace(x, off, len, scale);
    }

    @Override
    public void siluInPlace(float[] x, int off, int len) {
        backend.siluInPlace(x, off, len);
    }

    @Override
    public void scanStep(int channels, int n, float[] delta, float[] u, float[] a, float[] b, int bOff, float[] c,
                         int cOff, Discretization discretization, float[] h, float[] y) {
        backend.scanStep(channels, n, delta, u, a, b, bOff, c, cOff, discretization, h, y);
    }

    @Override
    public void scanForward(ScanBatch in, float[] h, float[] y, float[] chunkStates, int chunkLength) {
        ScanTiling.forward(tiles, in, h, y, chunkStates, chunkLength, pool);
    }

    @Override
    public void scanBackward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                             ScanGradients out) {
        ScanTiling.backward(tiles, in, h0, chunkStates, chunkLength, dy, out, pool);
    }
}
