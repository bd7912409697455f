package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.processors.SensorDetector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SKAB's changepoint and outlier tasks through the converter and the harness (skipped when the dataset is absent:
 * it is read from -Dsidewinder.datasets, default ../shared/datasets). Guards the figures in processors/README.md.
 */
class SkabBenchmarkTest {

    static Path convertedSkab(Path out) throws Exception {
        Path skab = Path.of(System.getProperty("sidewinder.datasets", "../shared/datasets")).resolve("skab");
        assumeTrue(Files.isDirectory(skab), "SKAB not found at " + skab.toAbsolutePath() + " (set -Dsidewinder.datasets)");
        SkabConverter.convert(skab, out);
        return out;
    }

    @Test
    void sidewinderBeatsTheBestPublishedChangepointScoreAndTheWindowedGaussian(@TempDir Path out) throws Exception {
        convertedSkab(out);
        List<LabelledStream> corpus = CorpusReader.read(out.resolve("data"), out.resolve("labels-changepoint.json"));
        SensorDetector detector = SidewinderDetector.generalDetector();
        AnomalyEvaluation.Report sw = AnomalyEvaluation.score("sidewinder",
                AnomalyEvaluation.replay(corpus, SidewinderDetector.factory(detector), 2), n -> 400);
        AnomalyEvaluation.Report gauss = AnomalyEvaluation.score("gaussian",
                AnomalyEvaluation.replay(corpus, WindowedGaussianDetector.factory(), 2), n -> 400);
        double standard = sw.profile(NabProfile.STANDARD).score(), cv = sw.profile(NabProfile.STANDARD).crossValidatedScore();
        assertTrue(standard >= 35 && cv >= 35, "NAB standard " + standard + " (cross-validated " + cv + "), target 35");
        assertTrue(standard > gauss.profile(NabProfile.STANDARD).score(), "windowed Gaussian scored higher");
    }

    @Test
    void sidewinderFindsTheOutlierRowsBetterThanTheLeaderboardAndThanFlaggingEveryRow(@TempDir Path out) throws Exception {
        convertedSkab(out);
        List<LabelledStream> corpus = CorpusReader.read(out.resolve("data"), out.resolve("labels-outlier.json"));
        AnomalyEvaluation.Report sw = AnomalyEvaluation.score("sidewinder",
                AnomalyEvaluation.replay(corpus, SidewinderDetector.factory(SidewinderDetector.generalDetector()), 2), n -> 400);
        double f1 = sw.points().counts().f1(), cv = sw.points().crossValidated().f1();
        assertTrue(f1 >= 0.80 && cv >= 0.80, "F1 " + f1 + " (cross-validated " + cv + "), target 0.80");
        // Flagging every test row: 54 % of them are anomalous, which the onset score alone cannot beat.
        long positives = 0, rows = 0;
        for (LabelledStream s : corpus) {
            boolean[] labels = s.rowLabels();
            for (int i = 400; i < labels.length; i++, rows++) if (labels[i]) positives++;
        }
        double flagAll = 2.0 * positives / (positives + rows);
        assertTrue(f1 > flagAll + 0.1, "F1 " + f1 + " vs flagging every row " + flagAll);
    }
}
