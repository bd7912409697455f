package io.sidewinder.evaluation.anomaly;

import io.sidewinder.processors.AnomalyScorer;
import io.sidewinder.processors.BaselineDeviation;
import io.sidewinder.processors.KeyCadence;
import io.sidewinder.processors.SensorDetector;
import io.sidewinder.processors.SidewinderConfig;
import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.trainer.pretrained.GeneralModels;
import java.util.Map;

/**
 * Sidewinder's detector in the harness: the stream processor's {@link SensorDetector} for one key. The row's onset
 * score is the stream's likelihood (0 for the first row, which has no forecast to be scored against); its state
 * score is the stream's deviation from the key's baseline (0 while the baseline is learned).
 */
public final class SidewinderDetector implements StreamDetector {
    private final SensorDetector detector;
    private final SensorDetector.State state;
    private final double maxAbsValue;
    private long lastEventTime = Long.MIN_VALUE;

    public SidewinderDetector(SensorDetector detector, int channels) {
        this(detector, channels, io.sidewinder.ssm.CausalNormalizer.MAX_ABS_READING);
    }

    /** {@code maxAbsValue}: the stream's sidewinder.max.abs.value; a row beyond it is what the stream dead-letters. */
    public SidewinderDetector(SensorDetector detector, int channels, double maxAbsValue) {
        this.detector = detector;
        this.state = detector.newState(channels);
        this.maxAbsValue = maxAbsValue;
    }

    public static Factory factory(SensorDetector detector) {
        return factory(detector, io.sidewinder.ssm.CausalNormalizer.MAX_ABS_READING);
    }

    public static Factory factory(SensorDetector detector, double maxAbsValue) {
        return new Factory() {
            @Override
            public String name() {
                return "sidewinder";
            }

            @Override
            public StreamDetector create(int channels) {
                return new SidewinderDetector(detector, channels, maxAbsValue);
            }

            @Override
            public boolean separateStateScore() {
                return true;
            }
        };
    }

    /**
     * What {@code eval anomaly} runs unless told otherwise: the general univariate model, the processor's default
     * scorer settings, gaps relative to each stream's own cadence.
     */
    public static SensorDetector generalDetector() throws java.io.IOException {
        return detector(GeneralModels.univariate(GeneralModels.DEFAULT_SEED), KeyCadence.Mode.KEY);
    }

    /** The processor's detector for a model, with the processor's default scorer and baseline settings. */
    public static SensorDetector detector(ModelParameters params, KeyCadence.Mode gaps) {
        return detector(params, gaps, new SidewinderConfig(Map.of()));
    }

    /** The processor's detector for a model, with the scorer and baseline settings of {@code config}. */
    public static SensorDetector detector(ModelParameters params, KeyCadence.Mode gaps, SidewinderConfig config) {
        return new SensorDetector(new Forecaster(new MambaModel(params)), AnomalyScorer.from(config),
                BaselineDeviation.from(config), gaps);
    }

    /**
     * A row not after the previous one is what the stream dead-letters as OUT_OF_ORDER: it changes no state and gets
     * no score, so here it scores 0 (no alarm) and the key goes on as the stream's would.
     */
    @Override
    public Scores score(long eventTime, float[] values) {
        if (eventTime <= lastEventTime) return NONE;
        for (float v : values) {
            if (Math.abs(v) > maxAbsValue) return NONE;   // OUT_OF_RANGE on the stream: no state change, no score
        }
        lastEventTime = eventTime;
        SensorDetector.Observation o = detector.observe(state, eventTime, values);
        AnomalyScorer.Score s = o.score();
        return new Scores(s == null ? 0 : s.likelihood(), o.deviation().score());
    }

    private static final Scores NONE = Scores.same(0);
}
