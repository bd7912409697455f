package io.sidewinder.evaluation.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SkabConverterTest {
    @TempDir
    Path dir;

    @Test
    void anomalyRunsAndChangepointWindowsBecomeLabelsOverTheConvertedFiles() throws Exception {
        Path skab = dir.resolve("skab/data/valve1");
        Files.createDirectories(skab);
        StringBuilder csv = new StringBuilder("datetime;A;B;anomaly;changepoint\n");
        for (int i = 0; i < 200; i++) {
            boolean anomalous = i >= 100 && i < 150;
            csv.append(String.format("2020-03-09 10:%02d:%02d;%d.5;1;%s;%s%n", i / 60, i % 60, i,
                    anomalous ? "1.0" : "0.0", i == 100 || i == 150 ? "1.0" : "0.0"));
        }
        Files.writeString(skab.resolve("0.csv"), csv);
        Files.createDirectories(dir.resolve("skab/data/anomaly-free"));
        Files.writeString(dir.resolve("skab/data/anomaly-free/anomaly-free.csv"), "datetime;A;B\n2020-03-09 10:00:00;1;1\n");

        SkabConverter.Summary s = SkabConverter.convert(dir.resolve("skab"), dir.resolve("out"));
        assertEquals(new SkabConverter.Summary(1, 200, 1, 2), s);
        List<LabelledStream> outliers = CorpusReader.read(dir.resolve("out/data"), dir.resolve("out/labels-outlier.json"));
        assertEquals(List.of("A", "B"), outliers.getFirst().channels());
        assertEquals(List.of(new LabelledStream.RowWindow(100, 149)), outliers.getFirst().windows());
        List<LabelledStream> changes = CorpusReader.read(dir.resolve("out/data"), dir.resolve("out/labels-changepoint.json"));
        // 60 s to the right of each changepoint, at 1 Hz: rows 100..160 and 150..199 overlap and merge.
        assertEquals(List.of(new LabelledStream.RowWindow(100, 199)), changes.getFirst().windows());
    }

    @Test
    void aBadTimeOrLabelIsAnErrorNamingTheFileAndLineAndBlankLinesAreSkipped() throws Exception {
        Path skab = dir.resolve("skab/data/valve1");
        Files.createDirectories(skab);
        Files.writeString(skab.resolve("0.csv"), "datetime;A;anomaly;changepoint\n2020-03-09 10:00:00;1;0.0;0.0\n\n"
                + "2020-03-09 10:00:01;1;x;0.0\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> SkabConverter.convert(dir.resolve("skab"), dir.resolve("out")));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("0.csv:4: "), e.getMessage());
    }
}
