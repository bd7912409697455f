package io.sidewinder.evaluation.anomaly;

/**
 * A causal anomaly detector for one stream: it sees each row once, in time order, and scores it in [0,1]
 * before learning from it. The evaluator makes a fresh one per file.
 */
public interface StreamDetector {

    /** The anomaly score of this row, in [0,1]. */
    double score(long eventTime, float[] values);

    /** Makes fresh detectors; {@link #name()} is what reports call it. */
    interface Factory {
        String name();

        StreamDetector create(int channels);

        static Factory of(String name, java.util.function.IntFunction<StreamDetector> create) {
            return new Factory() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public StreamDetector create(int channels) {
                    return create.apply(channels);
                }
            };
        }
    }
}
