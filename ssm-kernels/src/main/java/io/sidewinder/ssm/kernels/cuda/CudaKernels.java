package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.Discretization;
import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.SsmKernels;

/**
 * The CUDA backend ({@code -Dsidewinder.backend=cuda}): the batch selective scan forward and backward run on the
 * GPU; the small per-reading operations (matrix-vector products, activations, the streaming scan step) stay on
 * the CPU backend given, where a kernel launch would cost more than the work. Shapes the GPU kernels are not
 * built for (state sizes other than 8, 16, 32) go to the CPU backend too.
 */
public final class CudaKernels implements SsmKernels {
    private final SsmKernels cpu;
    private final CudaRuntime rt;
    private final CudaSelectiveScan scan;

    public CudaKernels(CudaRuntime rt, SsmKernels cpu) {
        this.rt = rt;
        this.cpu = cpu;
        this.scan = new CudaSelectiveScan(rt);
    }

    @Override
    public String name() {
        return "cuda(" + rt.description() + ") + " + cpu.name();
    }

    private static boolean onGpu(ScanBatch in) {
        int n = in.stateSize();
        return n == 8 || n == 16 || n == 32;
    }

    @Override
    public void scanForward(ScanBatch in, float[] h, float[] y, float[] chunkStates, int chunkLength) {
        in.checkForwardBuffers(h, y, chunkStates, chunkLength);
        if (onGpu(in)) {
            scan.forward(in, h, y, chunkStates, chunkLength);
        } else {
            cpu.scanForward(in, h, y, chunkStates, chunkLength);
        }
    }

    @Override
    public void scanBackward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                             ScanGradients out) {
        out.checkShapes(in);
        if (onGpu(in)) {
            scan.backward(in, h0, chunkStates, chunkLength, dy, out, true);
        } else {
            cpu.scanBackward(in, h0, chunkStates, chunkLength, dy, out);
        }
    }

    @Override
    public void matVec(float[] w, float[] bias, int rows, int cols, float[] x, int xOff, float[] y, int yOff) {
        cpu.matVec(w, bias, rows, cols, x, xOff, y, yOff);
    }

    @Override
    public void matVecTransposed(float[] wT, float[] bias, int rows, int cols, float[] x, int xOff, float[] y,
                                 int yOff) {
        cpu.matVecTransposed(wT, bias, rows, cols, x, xOff, y, yOff);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias,
                     float[] c, boolean accumulate) {
        cpu.gemm(transA, transB, m, n, k, a, b, bias, c, accumulate);
    }

    @Override
    public void causalConvForward(int batch, int length, int channels, int width, float[] x, float[] prefix, float[] w,
                                  float[] bias, float[] y) {
        cpu.causalConvForward(batch, length, channels, width, x, prefix, w, bias, y);
    }

    @Override
    public void causalConvBackward(int batch, int length, int channels, int width, float[] x, float[] prefix,
                                   float[] w, float[] dy, float[] dx, float[] dw, float[] dbias) {
        cpu.causalConvBackward(batch, length, channels, width, x, prefix, w, dy, dx, dw, dbias);
    }

    @Override
    public void rmsNormForward(int rows, int width, float[] x, float[] w, float eps, float[] y, float[] rstd) {
        cpu.rmsNormForward(rows, width, x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(int rows, int width, float[] x, float[] w, float[] rstd, float[] dy, float[] dx,
                                float[] dw) {
        cpu.rmsNormBackward(rows, width, x, w, rstd, dy, dx, dw);
    }

    @Override
    public void siluBackward(float[] x, float[] dy, float[] dx, int len) {
        cpu.siluBackward(x, dy, dx, len);
    }

    @Override
    public void softplusInPlace(float[] x, int off, int len, float scale) {
        cpu.softplusInPlace(x, off, len, scale);
    }

    @Override
    public void siluInPlace(float[] x, int off, int len) {
        cpu.siluInPlace(x, off, len);
    }

    @Override
    public void scanStep(int channels, int n, float[] delta, float[] u, float[] a, float[] b, int bOff, float[] c,
                         int cOff, Discretization discretization, float[] h, float[] y) {
        cpu.scanStep(channels, n, delta, u, a, b, bOff, c, cOff, discretization, h, y);
    }
}
