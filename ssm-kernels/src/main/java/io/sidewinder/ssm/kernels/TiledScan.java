package io.sidewinder.ssm.kernels;

/**
 * A CPU backend's batch scan split into tiles: one sequence b and a channel range [c0, c1). Tiles are
 * independent in the forward; in the backward each tile writes its own slices of du, dDeltaRaw, dz and dh0
 * directly and its sums over channels or sequences (db, dc, da, dd, dDeltaBias) into its own
 * {@link ScanTilePartials}, which {@link ScanTiling} reduces in a fixed order — so results do not depend on how
 * many threads ran the tiles.
 */
public interface TiledScan {

    /** {@link SsmKernels#scanForward} restricted to sequence b and channels [c0, c1). */
    void scanForwardTile(ScanBatch in, int b, int c0, int c1, float[] h, float[] y, float[] chunkStates,
                         int chunkLength);

    /** {@link SsmKernels#scanBackward} restricted to sequence b and channels [c0, c1); sums go into partial. */
    void scanBackwardTile(ScanBatch in, int b, int c0, int c1, float[] h0, float[] chunkStates, int chunkLength,
                          float[] dy, ScanGradients out, ScanTilePartials partial);
}
