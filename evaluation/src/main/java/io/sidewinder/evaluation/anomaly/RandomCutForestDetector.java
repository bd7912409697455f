package io.sidewinder.evaluation.anomaly;

import com.amazon.randomcutforest.parkservices.AnomalyDescriptor;
import com.amazon.randomcutforest.parkservices.ThresholdedRandomCutForest;

/**
 * AWS Random Cut Forest as a peer detector: a {@link ThresholdedRandomCutForest} with default parameters over
 * the row's channels; the row's score is the forest's anomaly grade, which is in [0,1] (0 below its own
 * adaptive threshold).
 */
public final class RandomCutForestDetector implements StreamDetector {
    private final ThresholdedRandomCutForest forest;
    private final double[] point;

    public RandomCutForestDetector(int channels, long seed) {
        this.forest = ThresholdedRandomCutForest.builder().dimensions(channels).randomSeed(seed).build();
        this.point = new double[channels];
    }

    public static Factory factory() {
        return Factory.of("random-cut-forest", channels -> new RandomCutForestDetector(channels, 42));
    }

    @Override
    public Scores score(long eventTime, float[] values) {
        for (int c = 0; c < point.length; c++) point[c] = values[c];
        AnomalyDescriptor d = forest.process(point, eventTime);
        double grade = d.getAnomalyGrade();
        return Scores.same(Double.isFinite(grade) ? Math.max(0, Math.min(1, grade)) : 0);
    }
}
