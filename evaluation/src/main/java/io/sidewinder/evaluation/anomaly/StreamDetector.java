package io.sidewinder.evaluation.anomaly;

/**
 * A causal anomaly detector for one stream: it sees each row once, in time order, and scores it in [0,1]
 * before learning from it. The evaluator makes a fresh one per file.
 */
public interface StreamDetector {

    /**
     * A row's two scores, each in [0,1]. {@code onset} answers "did an anomaly just start?" and is what the NAB-style
     * scores (early detection of windows) read; {@code state} answers "is this row anomalous?" and is what the
     * point-wise F1 reads. A detector with one score gives it for both.
     */
    record Scores(double onset, double state) {
        public static Scores same(double score) {
            return new Scores(score, score);
        }
    }

    /** The scores of this row. */
    Scores score(long eventTime, float[] values);

    /** Makes fresh detectors; {@link #name()} is what reports call it. */
    interface Factory {
        String name();

        StreamDetector create(int channels);

        /** True when the detector's state score is not simply its onset score (reports then show both). */
        default boolean separateStateScore() {
            return false;
        }

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
