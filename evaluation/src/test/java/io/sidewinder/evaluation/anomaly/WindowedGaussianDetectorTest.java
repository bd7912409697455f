package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WindowedGaussianDetectorTest {

    @Test
    void scoresEachValueAgainstTheWindowBeforeIt() {
        WindowedGaussianDetector d = new WindowedGaussianDetector(1);
        assertEquals(0.0, d.score(0, new float[] {1}).onset(), 0);                 // first row
        assertEquals(1.0, d.score(1, new float[] {2}).onset(), 1e-9);              // sigma 0 -> 1e-6
        // window {1, 2}: mean 1.5, population std 0.5, |3 - 1.5| / 0.5 = 3 -> 1 - Q(3)
        assertEquals(1 - 0.0013498980316301, d.score(2, new float[] {3}).onset(), 1e-7);
    }

    @Test
    void theWindowSlidesInStepsOfOneHundredAfterFilling() {
        WindowedGaussianDetector d = new WindowedGaussianDetector(1);
        for (int i = 0; i < WindowedGaussianDetector.WINDOW; i++) d.score(i, new float[] {i % 2});
        // Window full of 0/1 (mean 0.5, std 0.5). The next 99 values of 10 wait in the step buffer...
        for (int i = 0; i < 99; i++) {
            assertEquals(1 - 0.5 * io.sidewinder.processors.AnomalyScorer.erfc(19 / Math.sqrt(2)), d.score(0, new float[] {10}).onset(), 1e-12);
        }
        d.score(0, new float[] {10}); // ...the 100th slides the window
        double mean = (6300 * 0.5 + 100 * 10) / 6400.0;
        double score = d.score(0, new float[] {(float) mean}).onset();
        assertEquals(0.5, score, 1e-6); // a value at the new mean scores 1 - Q(0)
    }

    @Test
    void severalChannelsScoreTheirLargestDeviation() {
        WindowedGaussianDetector d = new WindowedGaussianDetector(2);
        d.score(0, new float[] {0, 0});
        d.score(1, new float[] {1, 0});
        double s = d.score(2, new float[] {0.5f, 100}).onset();
        assertEquals(1.0, s, 1e-9);
    }
}
