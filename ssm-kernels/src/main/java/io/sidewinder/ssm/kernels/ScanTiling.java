package io.sidewinder.ssm.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Runs a {@link TiledScan} over batch × channel-block tiles, sequentially or on a ForkJoinPool. The blocking
 * depends only on the problem's shape (never on the thread count), and partial sums are reduced in tile order,
 * so one thread and many threads give bit-identical results.
 */
public final class ScanTiling {
    /** Channel blocks are at least this wide (two 512-bit vectors of floats). */
    static final int MIN_BLOCK = 32;
    /** At most this many blocks per sequence, bounding the partial-sum buffers of the backward. */
    static final int MAX_BLOCKS = 8;

    private ScanTiling() {}

    /** Channels per block for a problem with this many channels. */
    public static int blockWidth(int channels) {
        int perBlock = (channels + MAX_BLOCKS - 1) / MAX_BLOCKS;
        int rounded = (perBlock + 15) / 16 * 16;
        return Math.min(channels, Math.max(MIN_BLOCK, rounded));
    }

    public static void forward(TiledScan kernel, ScanBatch in, float[] h, float[] y, float[] chunkStates,
                               int chunkLength, ForkJoinPool pool) {
        in.checkForwardBuffers(h, y, chunkStates, chunkLength);
        int width = blockWidth(in.channels()), blocks = (in.channels() + width - 1) / width;
        run(in.batch() * blocks, pool, tile -> {
            int b = tile / blocks, c0 = (tile % blocks) * width;
            kernel.scanForwardTile(in, b, c0, Math.min(in.channels(), c0 + width), h, y, chunkStates, chunkLength);
        });
    }

    public static void backward(TiledScan kernel, ScanBatch in, float[] h0, float[] chunkStates, int chunkLength,
                                float[] dy, ScanGradients out, ForkJoinPool pool) {
        checkBackwardBuffers(in, h0, chunkStates, chunkLength, dy, out);
        int width = blockWidth(in.channels()), blocks = (in.channels() + width - 1) / width;
        int len = in.length(), n = in.stateSize(), dd = in.channels();
        ScanTilePartials[] partials = new ScanTilePartials[in.batch() * blocks];
        run(partials.length, pool, tile -> {
            int b = tile / blocks, c0 = (tile % blocks) * width, c1 = Math.min(dd, c0 + width);
            ScanTilePartials p = new ScanTilePartials(len, n, c1 - c0);
            kernel.scanBackwardTile(in, b, c0, c1, h0, chunkStates, chunkLength, dy, out, p);
            partials[tile] = p;
        });
        for (int b = 0; b < in.batch(); b++) {
            int base = b * len * n;
            for (int k = 0; k < blocks; k++) {
                ScanTilePartials p = partials[b * blocks + k];
                addInto(out.db(), base, p.db);
                addInto(out.dc(), base, p.dc);
            }
        }
        for (int k = 0; k < blocks; k++) {
            int c0 = k * width;
            for (int b = 0; b < in.batch(); b++) {
                ScanTilePartials p = partials[b * blocks + k];
                addInto(out.da(), c0 * n, p.da);
                if (out.dd() != null) addInto(out.dd(), c0, p.dd);
                if (out.dDeltaBias() != null) addInto(out.dDeltaBias(), c0, p.dDeltaBias);
            }
        }
    }

    static void checkBackwardBuffers(ScanBatch in, float[] h0, float[] chunkStates, int chunkLength, float[] dy,
                                     ScanGradients out) {
        if (h0 != null) ScanBatch.requireLength(h0, in.stateLength(), "h0");
        ScanBatch.requireLength(chunkStates, in.chunkStatesLength(chunkLength), "chunkStates");
        ScanBatch.requireLength(dy, in.batch() * in.length() * in.channels(), "dy");
        out.checkShapes(in);
    }

    private static void addInto(float[] target, int offset, float[] part) {
        for (int i = 0; i < part.length; i++) {
            target[offset + i] += part[i];
        }
    }

    private static void run(int tiles, ForkJoinPool pool, java.util.function.IntConsumer body) {
        if (pool == null || tiles == 1) {
            for (int t = 0; t < tiles; t++) body.accept(t);
        } else {
            pool.submit(() -> IntStream.range(0, tiles).parallel().forEach(body)).join();
        }
    }
}
