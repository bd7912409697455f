package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.kernels.ScanGradients;
import io.sidewinder.ssm.kernels.DelegatingKernels;
import io.sidewinder.ssm.kernels.SsmKernels;

/**
 * The CUDA backend ({@code -Dsidewinder.backend=cuda}): the batch selective scan forward and backward run on the
 * GPU; the small per-reading operations (matrix-vector products, activations, the streaming scan step) stay on
 * the CPU backend given, where a kernel launch would cost more than the work. Shapes the GPU kernels are not
 * built for (state sizes other than 8, 16, 32) go to the CPU backend too.
 */
public final class CudaKernels extends DelegatingKernels {
    private final CudaRuntime rt;
    private final CudaSelectiveScan scan;

    public CudaKernels(CudaRuntime rt, SsmKernels cpu) {
        super(cpu);
        this.rt = rt;
        this.scan = new CudaSelectiveScan(rt);
    }

    /** The GPU this backend runs on (for callers that keep a whole step resident: {@link CudaTrainStep}). */
    public CudaRuntime runtime() {
        return rt;
    }

    @Override
    public String name() {
        return "cuda(" + rt.description() + ") + " + delegate.name();
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
            delegate.scanForward(in, h, y, chunkStates, chunkLength);
        }
    }

    @Override
    public void scanBackward(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                             ScanGradients out) {
        out.checkShapes(in);
        if (onGpu(in)) {
            scan.backward(in, h0, chunkStates, chunkLength, dy, out, true);
        } else {
            delegate.scanBackward(in, h0, chunkStates, chunkLength, dy, out);
        }
    }
}
