package io.sidewinder.ssm.kernels;

import java.util.concurrent.ForkJoinPool;

/**
 * A CPU backend whose batch scan runs its batch × channel-block tiles on a ForkJoinPool of a given size
 * ({@link ScanTiling}); the per-step kernels are the backend's own. Results are bit-identical for every thread
 * count, because tiling and reduction order depend only on the problem's shape.
 */
public final class ParallelKernels extends DelegatingKernels {
    private final TiledScan tiles;
    private final ForkJoinPool pool;
    private final int threads;

    /** Wraps a backend that implements {@link TiledScan} (the scalar and SIMD backends do). */
    public ParallelKernels(SsmKernels backend, int threads) {
        super(backend);
        if (!(backend instanceof TiledScan t)) {
            throw new IllegalArgumentException(backend.name() + " does not run in tiles");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        this.tiles = t;
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    public int threads() {
        return threads;
    }

    @Override
    public String name() {
        return delegate.name() + "x" + threads;
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
