package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sidewinder.evaluation.anomaly.LabelledStream.RowWindow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed NAB cases: 10 rows, probation 2, one window over rows 4..6 (width 3). */
class NabScorerTest {
    static final List<RowWindow> WINDOW = List.of(new RowWindow(4, 6));
    static final double MAX_TP = 2 / (1 + Math.exp(-5)) - 1;          // scaledSigmoid(-1) = 0.98661

    static double[] scores(int... detected) {
        double[] s = new double[10];
        java.util.Arrays.fill(s, 0.1);
        for (int i : detected) s[i] = 0.9;
        return s;
    }

    static double raw(double[] scores, NabProfile p) {
        return NabScorer.rawScore(List.of(NabScorer.prepare(scores, WINDOW, 2, p)), 0.5, p);
    }

    @Test
    void scaledSigmoidMatchesNabsDefinition() {
        assertEquals(MAX_TP, NabScorer.scaledSigmoid(-1), 1e-12);
        assertEquals(0.98661429815, NabScorer.MAX_TP, 1e-10);
        assertEquals(0.0, NabScorer.scaledSigmoid(0), 1e-12);
        assertEquals(-1.0, NabScorer.scaledSigmoid(3.0001), 0);
    }

    @Test
    void detectionAtTheWindowStartEarnsTheFullTruePositiveWeight() {
        assertEquals(1.0, raw(scores(4), NabProfile.STANDARD), 1e-12);
        assertEquals(100.0, NabScorer.normalise(1.0, 1, NabProfile.STANDARD), 1e-12);
    }

    @Test
    void laterDetectionsInTheWindowEarnLessAndOnlyTheBestCounts() {
        double atRow5 = (2 / (1 + Math.exp(5 * -2.0 / 3)) - 1) / MAX_TP;
        double atRow6 = (2 / (1 + Math.exp(5 * -1.0 / 3)) - 1) / MAX_TP;
        assertEquals(atRow5, raw(scores(5), NabProfile.STANDARD), 1e-12);
        assertEquals(atRow6, raw(scores(6), NabProfile.STANDARD), 1e-12);
        assertEquals(atRow5, raw(scores(5, 6), NabProfile.STANDARD), 1e-12);
    }

    @Test
    void falsePositivesCostFpWeightBeforeAWindowAndLessJustAfterIt() {
        // row 2: before any window ended -> -0.11; the window is missed -> -1
        assertEquals(-1 - 0.11, raw(scores(2), NabProfile.STANDARD), 1e-12);
        // row 7: |6-7|/(3-1) = 0.5 after the window -> scaledSigmoid(0.5)*0.11
        double row7 = (2 / (1 + Math.exp(2.5)) - 1) * 0.11;
        assertEquals(-1 + row7, raw(scores(7), NabProfile.STANDARD), 1e-12);
        assertEquals(-1 + 2 * row7, raw(scores(7), NabProfile.REWARD_LOW_FP), 1e-12);
        assertEquals(-2 + row7, raw(scores(7), NabProfile.REWARD_LOW_FN), 1e-12);
    }

    @Test
    void probationRowsAreNeverScored() {
        assertEquals(-1.0, raw(scores(0, 1), NabProfile.STANDARD), 1e-12);
    }

    @Test
    void aWindowStartingInProbationIsDroppedAndItsRowsAreNotScored() {
        NabScorer.ScoredFile f = NabScorer.prepare(scores(3, 4), List.of(new RowWindow(1, 4)), 2, NabProfile.STANDARD);
        assertEquals(0, f.windows());
        assertEquals(5, f.scores().length); // rows 5..9
        assertEquals(0.0, NabScorer.rawScore(List.of(f), 0.5, NabProfile.STANDARD), 1e-12);
    }

    @Test
    void theSweepFindsTheBestDistinctThreshold() {
        double[] s = scores();
        s[4] = 0.9;
        s[7] = 0.95;
        NabScorer.Sweep best = NabScorer.bestThreshold(List.of(NabScorer.prepare(s, WINDOW, 2, NabProfile.STANDARD)),
                NabProfile.STANDARD);
        double row7 = (2 / (1 + Math.exp(2.5)) - 1) * 0.11;
        assertEquals(0.9, best.threshold(), 0);
        assertEquals(1 + row7, best.rawScore(), 1e-12);
    }

    @Test
    void theSweepKeepsNoDetectionsWhenEveryDetectionCosts() {
        NabScorer.Sweep best = NabScorer.bestThreshold(List.of(NabScorer.prepare(scores(2, 3), List.of(), 2,
                NabProfile.STANDARD)), NabProfile.STANDARD);
        assertEquals(NabScorer.NO_DETECTIONS, best.threshold(), 0);
        assertEquals(0.0, best.rawScore(), 1e-12);
    }

    @Test
    void theSweepAgreesWithScoringEachThresholdDirectly() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        double[] s = new double[300];
        for (int i = 0; i < s.length; i++) s[i] = Math.round(r.nextDouble() * 50) / 50.0;
        List<RowWindow> windows = List.of(new RowWindow(60, 80), new RowWindow(150, 151), new RowWindow(200, 260));
        for (NabProfile p : NabProfile.values()) {
            List<NabScorer.ScoredFile> files = List.of(NabScorer.prepare(s, windows, 45, p));
            double best = NabScorer.rawScore(files, NabScorer.NO_DETECTIONS, p);
            for (double t : s) best = Math.max(best, NabScorer.rawScore(files, t, p));
            assertEquals(best, NabScorer.bestThreshold(files, p).rawScore(), 1e-9, p.label());
        }
    }

    @Test
    void normalisationPutsTheNullDetectorAtZeroAndPerfectAtHundred() {
        assertEquals(0.0, NabScorer.normalise(-2 * 3, 3, NabProfile.REWARD_LOW_FN), 1e-12);
        assertEquals(100.0, NabScorer.normalise(3, 3, NabProfile.REWARD_LOW_FN), 1e-12);
        assertEquals(50.0, NabScorer.normalise(0, 4, NabProfile.STANDARD), 1e-12);
    }

    @Test
    void nabProbationIsFifteenPercentCappedAt750() {
        assertEquals(150, NabScorer.nabProbation(1000));
        assertEquals(750, NabScorer.nabProbation(100_000));
        assertEquals(1, NabScorer.nabProbation(13));
    }
}
