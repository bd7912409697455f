package io.sidewinder.evaluation.anomaly;

import io.sidewinder.processors.AnomalyScorer;
import io.sidewinder.processors.KeyCadence;
import io.sidewinder.processors.SensorDetector;

/**
 * Sidewinder's detector in the harness: the stream processor's {@link SensorDetector} for one key, whose
 * likelihood is the row's score (0 for the first row, which has no forecast to be scored against).
 */
public final class SidewinderDetector implements StreamDetector {
    private final SensorDetector detector;
    private final SensorDetector.State state;

    public SidewinderDetector(SensorDetector detector, int channels) {
        this.detector = detector;
        this.state = detector.newState(channels);
    }

    public static Factory factory(SensorDetector detector) {
        return new Factory() {
            @Override
            public String name() {
                return "sidewinder";
            }

            @Override
            public StreamDetector create(int channels) {
                return new SidewinderDetector(detector, channels);
            }
        };
    }

    /** The processor's defaults with the general model: what {@code eval anomaly} runs unless told otherwise. */
    public static SensorDetector defaultDetector(io.sidewinder.ssm.Forecaster forecaster, AnomalyScorer scorer) {
        return new SensorDetector(forecaster, scorer, KeyCadence.Mode.KEY);
    }

    @Override
    public double score(long eventTime, float[] values) {
        AnomalyScorer.Score s = detector.observe(state, eventTime, values).score();
        return s == null ? 0 : s.likelihood();
    }
}
