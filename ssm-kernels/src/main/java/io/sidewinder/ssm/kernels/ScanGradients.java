package io.sidewinder.ssm.kernels;

/**
 * Gradients of a {@link ScanBatch} scan, in the same layouts as its inputs; {@link SsmKernels#scanBackward}
 * adds (+=) into them. dDeltaBias, dd and dz are null exactly when deltaBias, d and z were null. dh0 is
 * [batch][channels][stateSize].
 */
public record ScanGradients(float[] du, float[] dDeltaRaw, float[] dDeltaBias, float[] da, float[] db, float[] dc,
                            float[] dd, float[] dz, float[] dh0) {

    /** Zeroed gradients shaped for {@code in}. */
    public static ScanGradients zerosFor(ScanBatch in) {
        int bld = in.batch() * in.length() * in.channels(), bln = in.batch() * in.length() * in.stateSize();
        return new ScanGradients(new float[bld], new float[bld],
                in.deltaBias() == null ? null : new float[in.channels()],
                new float[in.channels() * in.stateSize()], new float[bln], new float[bln],
                in.d() == null ? null : new float[in.channels()], in.z() == null ? null : new float[bld],
                new float[in.stateLength()]);
    }

    /** Throws unless every array is shaped for {@code in}. */
    public void checkShapes(ScanBatch in) {
        int bld = in.batch() * in.length() * in.channels(), bln = in.batch() * in.length() * in.stateSize();
        ScanBatch.requireLength(du, bld, "du");
        ScanBatch.requireLength(dDeltaRaw, bld, "dDeltaRaw");
        ScanBatch.requireLength(da, in.channels() * in.stateSize(), "da");
        ScanBatch.requireLength(db, bln, "db");
        ScanBatch.requireLength(dc, bln, "dc");
        ScanBatch.requireLength(dh0, in.stateLength(), "dh0");
        optional(dDeltaBias, in.deltaBias() != null, in.channels(), "dDeltaBias");
        optional(dd, in.d() != null, in.channels(), "dd");
        optional(dz, in.z() != null, bld, "dz");
    }

    private static void optional(float[] x, boolean present, int n, String name) {
        if (present) {
            ScanBatch.requireLength(x, n, name);
        } else if (x != null) {
            throw new IllegalArgumentException(name + " must be null when its input is null");
        }
    }
}
