package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.processors.SensorDetector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness end to end on generated streams with planted anomalies, scored by the processor's detector. */
class SidewinderDetectorTest {
    static SensorDetector detector;

    @BeforeAll
    static void buildDetector() throws Exception {
        detector = SidewinderDetector.generalDetector();
    }

    /** Five-minute metrics: daily cycle plus noise, with a spike and a level shift at known rows. */
    static List<LabelledStream> plantedCorpus(int files) {
        List<LabelledStream> corpus = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(11);
        for (int f = 0; f < files; f++) {
            int n = 2_000;
            long[] t = new long[n];
            float[][] v = new float[n][1];
            int spike = 700 + r.nextInt(300), shift = 1_300 + r.nextInt(300);
            double base = 50 + 20 * f, ar = 0;
            for (int i = 0; i < n; i++) {
                t[i] = 1_600_000_000_000L + 300_000L * i;
                ar = 0.8 * ar + r.nextGaussian();
                double x = base + 10 * Math.sin(2 * Math.PI * i / 288) + ar;
                if (i == spike) x += 25;
                if (i >= shift) x += 15;
                v[i][0] = (float) x;
            }
            List<LabelledStream.RowWindow> windows = List.of(new LabelledStream.RowWindow(spike - 10, spike + 10),
                    new LabelledStream.RowWindow(shift - 10, shift + 10));
            corpus.add(new LabelledStream("f" + f + ".csv", List.of("value"), t, v, windows));
        }
        return corpus;
    }

    @Test
    void aSentinelRowIsSkippedAsTheStreamDeadLettersItAsOutOfRange() {
        StreamDetector withSentinels = SidewinderDetector.factory(detector, 1e6).create(1);
        StreamDetector without = SidewinderDetector.factory(detector, 1e6).create(1);
        SplittableRandom r = new SplittableRandom(6);
        for (int i = 0; i < 300; i++) {
            long t = 60_000L * i;
            if (i % 50 == 25) {
                assertEquals(StreamDetector.Scores.same(0), withSentinels.score(t - 30_000, new float[] {3.4e38f}), "sentinel at " + i);
            }
            float[] v = {(float) (10 + r.nextGaussian())};
            assertClose(without.score(t, v), withSentinels.score(t, v), "row " + i + ": the sentinels changed nothing");
        }
    }

    @Test
    void aRowAtTheSameTimeAsThePreviousIsSkippedAsTheStreamDeadLettersIt() {
        StreamDetector withRepeat = SidewinderDetector.factory(detector).create(1);
        StreamDetector without = SidewinderDetector.factory(detector).create(1);
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 300; i++) {
            long t = 60_000L * i;
            float[] v = {(float) (10 + r.nextGaussian())};
            StreamDetector.Scores a = withRepeat.score(t, v), b = without.score(t, v);
            assertClose(b, a, "row " + i);
            if (i == 150) {
                // A far-off value at the same time: the stream would dead-letter it, so it must leave no trace.
                assertEquals(StreamDetector.Scores.same(0), withRepeat.score(t, new float[] {500}));
            }
        }
    }

    @Test
    void plantedSpikesAndShiftsAreFoundEarlyWithFewFalseAlarms() throws Exception {
        List<LabelledStream> corpus = plantedCorpus(6);
        AnomalyEvaluation.Replay replay = AnomalyEvaluation.replay(corpus, SidewinderDetector.factory(detector), 2);
        AnomalyEvaluation.Report report = AnomalyEvaluation.score("sidewinder", replay, NabScorer::nabProbation);
        assertEquals(12, report.windows());
        double standard = report.profile(NabProfile.STANDARD).score();
        assertTrue(standard > 70, "NAB standard " + standard);
        AnomalyEvaluation.Report gaussian = AnomalyEvaluation.score("gaussian",
                AnomalyEvaluation.replay(corpus, WindowedGaussianDetector.factory(), 2), NabScorer::nabProbation);
        assertTrue(standard > gaussian.profile(NabProfile.STANDARD).score(),
                standard + " vs windowed Gaussian " + gaussian.profile(NabProfile.STANDARD).score());
    }

    @Test
    void replaysAgreeWhateverTheThreadCountAndWriteOneResultFilePerStream(@TempDir Path out) throws Exception {
        List<LabelledStream> corpus = plantedCorpus(2);
        AnomalyEvaluation.Replay a = AnomalyEvaluation.replay(corpus, SidewinderDetector.factory(detector), 2);
        AnomalyEvaluation.Replay b = AnomalyEvaluation.replay(corpus, SidewinderDetector.factory(detector), 1);
        for (int i = 0; i < corpus.size(); i++) {
            // Not bit-exact: an interpreted and a JIT-compiled exp may differ in the last ulp.
            assertArrayEquals(a.files().get(i).onset(), b.files().get(i).onset(), 1e-5);
            assertArrayEquals(a.files().get(i).state(), b.files().get(i).state(), 1e-5);
        }
        ResultWriter.write(out, a.files().getFirst(), true);
        List<String> lines = Files.readAllLines(out.resolve("f0.csv"));
        assertEquals("timestamp,value,anomaly_score,label,state_score", lines.getFirst());
        assertEquals(2_001, lines.size());
        // The first row has no forecast yet, and no baseline.
        assertTrue(lines.get(1).endsWith(",0.000000,0,0.000000"), lines.get(1));
    }

    /** Equal up to fp32 rounding: two detectors run in lockstep may straddle a JIT switch of the SIMD kernels. */
    private static void assertClose(StreamDetector.Scores expected, StreamDetector.Scores actual, String what) {
        assertEquals(expected.onset(), actual.onset(), 1e-5, what + " (onset)");
        assertEquals(expected.state(), actual.state(), 1e-5, what + " (state)");
    }
}
