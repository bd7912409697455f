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
 * otherwise (NAB's results layout); {@code anomaly_score} is the onset score. A detector with a separate state score
 * (Sidewinder's deviation from the baseline) gets it in a last column, {@code state_score}.
 */
public final class ResultWriter {
    private ResultWriter() {}

    public static void write(Path outDir, AnomalyEvaluation.FileScores f, boolean withState) throws IOException {
        LabelledStream s = f.stream();
        Path out = outDir.resolve(s.path());
        Files.createDirectories(out.getParent());
        boolean[] labels = s.rowLabels();
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            w.write("timestamp," + (s.channels().size() == 1 ? "value" : String.join(",", s.channels())) + ",anomaly_score,label" + (withState ? ",state_score\n" : "\n"));
            StringBuilder line = new StringBuilder(128);
            for (int i = 0; i < s.rows(); i++) {
                line.setLength(0);
                line.append(Timestamps.format(s.times()[i]));
                for (float v : s.values()[i]) line.append(',').append(v);
                line.append(',').append(String.format(Locale.ROOT, "%.6f", f.onset()[i])).append(',').append(labels[i] ? 1 : 0);
                if (withState) line.append(',').append(String.format(Locale.ROOT, "%.6f", f.state()[i]));
                w.write(line.append('\n').toString());
            }
        }
    }
}
