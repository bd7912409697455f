package io.sidewinder.evaluation.anomaly;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes one result CSV per file under an output directory, at the file's relative path:
 * {@code timestamp,value,anomaly_score,label} for a univariate file, {@code timestamp,<channels…>,anomaly_score,label}
 * otherwise (NAB's results layout).
 */
public final class ResultWriter {
    private ResultWriter() {}

    public static void write(Path outDir, AnomalyEvaluation.FileScores f) throws IOException {
        LabelledStream s = f.stream();
        Path out = outDir.resolve(s.path());
        Files.createDirectories(out.getParent());
        boolean[] labels = s.rowLabels();
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            w.write("timestamp," + (s.channels().size() == 1 ? "value" : String.join(",", s.channels())) + ",anomaly_score,label\n");
            StringBuilder line = new StringBuilder(128);
            for (int i = 0; i < s.rows(); i++) {
                line.setLength(0);
                line.append(Timestamps.format(s.times()[i]));
                for (float v : s.values()[i]) line.append(',').append(v);
                line.append(',').append(String.format(Locale.ROOT, "%.6f", f.scores()[i])).append(',').append(labels[i] ? 1 : 0).append('\n');
                w.write(line.toString());
            }
        }
    }
}
