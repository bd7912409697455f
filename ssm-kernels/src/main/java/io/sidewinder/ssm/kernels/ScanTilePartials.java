package io.sidewinder.ssm.kernels;

/**
 * One tile's share of the backward's reductions: db and dc ([length][stateSize], summed over the tile's
 * channels), and da ([c1 − c0][stateSize]), dd and dDeltaBias ([c1 − c0], summed over the tile's steps). Zeroed
 * on creation; kernels add into them.
 */
public final class ScanTilePartials {
    public final float[] db, dc, da, dd, dDeltaBias;

    public ScanTilePartials(int length, int stateSize, int tileChannels) {
        db = new float[length * stateSize];
        dc = new float[length * stateSize];
        da = new float[tileChannels * stateSize];
        dd = new float[tileChannels];
        dDeltaBias = new float[tileChannels];
    }
}
