package io.sidewinder.evaluation.anomaly;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Converts SKAB (Skoltech Anomaly Benchmark: {@code ;}-separated files with {@code anomaly} and
 * {@code changepoint} columns) into the evaluator's layout: {@code <out>/data/<group>/<n>.csv} with header
 * {@code timestamp,<8 channels>}, and two labels files over the same data:
 * <ul>
 *   <li>{@code labels-outlier.json}: each run of consecutive {@code anomaly=1} rows as a window (the outlier task);</li>
 *   <li>{@code labels-changepoint.json}: [changepoint, changepoint + 60 s] for each {@code changepoint=1} row
 *       (the changepoint task, SKAB's window to the right).</li>
 * </ul>
 * Files without labels (anomaly-free) are left out: SKAB's protocol scores only the 34 files with an anomaly.
 */
public final class SkabConverter {
    private SkabConverter() {}

    public static final long CHANGEPOINT_WINDOW_MS = 60_000;

    public record Summary(int files, long rows, int outlierWindows, int changepoints) {}

    public static Summary convert(Path skabRoot, Path out) throws IOException {
        Path data = Files.isDirectory(skabRoot.resolve("data")) ? skabRoot.resolve("data") : skabRoot;
        List<Path> files;
        try (Stream<Path> s = Files.walk(data)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".csv")).sorted().toList();
        }
        Map<String, List<String[]>> outliers = new LinkedHashMap<>(), changepoints = new LinkedHashMap<>();
        int converted = 0, outlierWindows = 0, cps = 0;
        long rows = 0;
        for (Path f : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            } catch (java.nio.charset.CharacterCodingException e) {
                throw io.sidewinder.trainer.data.CsvText.notUtf8(f, e);
            }
            if (lines.isEmpty()) continue;
            String[] header = io.sidewinder.trainer.data.CsvText.header(lines.getFirst()).split(";", -1);
            int anomalyCol = indexOf(header, "anomaly"), changeCol = indexOf(header, "changepoint");
            if (anomalyCol < 0 || changeCol < 0) continue; // unlabelled (anomaly-free)
            String rel = data.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
            Path target = out.resolve("data").resolve(rel);
            Files.createDirectories(target.getParent());
            List<String[]> fileOutliers = new ArrayList<>(), fileChangepoints = new ArrayList<>();
            long runStart = Long.MIN_VALUE, previous = Long.MIN_VALUE;
            try (BufferedWriter w = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
                w.write("timestamp");
                for (int c = 1; c < header.length; c++) {
                    if (c != anomalyCol && c != changeCol) w.write("," + header[c].strip());
                }
                w.write('\n');
                for (int i = 1; i < lines.size(); i++) {
                    if (lines.get(i).isBlank()) continue;
                    String[] p = lines.get(i).split(";", -1);
                    if (p.length != header.length) {
                        throw new IllegalArgumentException(f + ":" + (i + 1) + ": expected " + header.length + " fields, got " + p.length);
                    }
                    long t;
                    boolean anomalous, changepoint;
                    try {   // name the file and line: a bare "For input string" does not say where
                        t = Timestamps.parseMillis(p[0]);
                        anomalous = Double.parseDouble(p[anomalyCol]) > 0.5;
                        changepoint = Double.parseDouble(p[changeCol]) > 0.5;
                    } catch (RuntimeException e) {
                        throw new IllegalArgumentException(f + ":" + (i + 1) + ": " + e.getMessage(), e);
                    }
                    StringBuilder row = new StringBuilder(Timestamps.format(t));
                    for (int c = 1; c < p.length; c++) {
                        if (c != anomalyCol && c != changeCol) row.append(',').append(p[c].strip());
                    }
                    w.write(row.append('\n').toString());
                    rows++;
                    if (anomalous && runStart == Long.MIN_VALUE) runStart = t;
                    if (!anomalous && runStart != Long.MIN_VALUE) {
                        fileOutliers.add(window(runStart, previous));
                        runStart = Long.MIN_VALUE;
                    }
                    if (changepoint) {
                        fileChangepoints.add(window(t, t + CHANGEPOINT_WINDOW_MS));
                    }
                    previous = t;
                }
                if (runStart != Long.MIN_VALUE) fileOutliers.add(window(runStart, previous));
            }
            outliers.put(rel, fileOutliers);
            changepoints.put(rel, fileChangepoints);
            outlierWindows += fileOutliers.size();
            cps += fileChangepoints.size();
            converted++;
        }
        if (converted == 0) throw new IllegalArgumentException("no labelled SKAB files under " + data);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(out.resolve("labels-outlier.json").toFile(), outliers);
        json.writeValue(out.resolve("labels-changepoint.json").toFile(), changepoints);
        return new Summary(converted, rows, outlierWindows, cps);
    }

    private static String[] window(long start, long end) {
        return new String[] {Timestamps.formatLabel(start), Timestamps.formatLabel(end)};
    }

    private static int indexOf(String[] header, String name) {
        for (int i = 0; i < header.length; i++) if (header[i].strip().equalsIgnoreCase(name)) return i;
        return -1;
    }
}
