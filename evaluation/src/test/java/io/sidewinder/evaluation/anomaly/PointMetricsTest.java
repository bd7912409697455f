package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PointMetricsTest {
    static final PointMetrics.LabelledScores FILE = new PointMetrics.LabelledScores(
            new double[] {0.9, 0.8, 0.3, 0.2}, new boolean[] {true, false, true, false});

    @Test
    void bestF1IsFoundOverDistinctThresholds() {
        PointMetrics.Best best = PointMetrics.bestF1(List.of(FILE));
        assertEquals(0.3, best.threshold(), 0);
        assertEquals(0.8, best.counts().f1(), 1e-12);          // tp 2, fp 1, fn 0
        assertEquals(50.0, best.counts().farPercent(), 1e-12);  // 1 of 2 normal rows flagged
        assertEquals(0.0, best.counts().marPercent(), 1e-12);
    }

    @Test
    void countsAtAThresholdFlagScoresAtOrAboveIt() {
        PointMetrics.Counts c = PointMetrics.at(List.of(FILE), 0.8);
        assertEquals(new PointMetrics.Counts(1, 1, 1, 1), c);
        assertEquals(0.5, c.f1(), 1e-12);
        assertEquals(50.0, c.marPercent(), 1e-12);
    }

    @Test
    void probationRowsAreLeftOut() {
        PointMetrics.LabelledScores s = PointMetrics.scorable(new double[] {1, 1, 0.2}, new boolean[] {false, false, true}, 2);
        assertEquals(1, s.scores().length);
        assertEquals(1.0, PointMetrics.bestF1(List.of(s)).counts().f1(), 1e-12);
    }
}
