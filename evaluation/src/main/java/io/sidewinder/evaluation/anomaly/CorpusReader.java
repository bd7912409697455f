package io.sidewinder.evaluation.anomaly;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads a labelled corpus: every CSV file under a directory (recursively; header {@code timestamp,value} or
 * {@code timestamp,<channel>,…}) and a labels JSON mapping each file's path relative to the directory (with
 * '/' separators) to a list of {@code [start, end]} timestamp windows. A file without an entry has no windows.
 * Bad input fails with the file and line in the message.
 */
public final class CorpusReader {
    private CorpusReader() {}

    public static List<LabelledStream> read(Path dir, Path labelsFile) throws IOException {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("not a directory: " + dir);
        Map<String, List<long[]>> labels = readLabels(labelsFile);
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".csv")).sorted().toList();
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no .csv files under " + dir);
        List<LabelledStream> streams = new ArrayList<>();
        for (Path f : files) {
            String rel = dir.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
            streams.add(readFile(f, rel, labels.getOrDefault(rel, List.of())));
        }
        List<String> unknown = labels.keySet().stream()
                .filter(k -> streams.stream().noneMatch(s -> s.path().equals(k))).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("labels name files that are not under " + dir + ": " + unknown);
        }
        return streams;
    }

    static Map<String, List<long[]>> readLabels(Path labelsFile) throws IOException {
        if (!java.nio.file.Files.isRegularFile(labelsFile)) {
            throw new java.nio.file.NoSuchFileException(labelsFile.toString(), null, "labels file not found");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(labelsFile.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("labels file " + labelsFile + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("labels file " + labelsFile + " must be a JSON object of file -> windows");
        }
        Map<String, List<long[]>> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            List<long[]> windows = new ArrayList<>();
            if (!e.getValue().isArray()) {
                throw new IllegalArgumentException("labels for " + e.getKey() + " must be a list of [start, end] windows, got "
                        + e.getValue());
            }
            for (JsonNode w : e.getValue()) {
                if (!w.isArray() || w.size() != 2) {
                    throw new IllegalArgumentException("labels for " + e.getKey() + ": each window must be [start, end], got " + w);
                }
                long start = Timestamps.parseMillis(w.get(0).asText()), end = Timestamps.parseMillis(w.get(1).asText());
                if (end < start) throw new IllegalArgumentException("labels for " + e.getKey() + ": window ends before it starts: " + w);
                windows.add(new long[] {start, end});
            }
            out.put(e.getKey(), windows);
        }
        return out;
    }

    static LabelledStream readFile(Path file, String rel, List<long[]> timeWindows) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String header = in.readLine();
            if (header == null) throw new IllegalArgumentException(file + ": empty file");
            header = io.sidewinder.trainer.data.CsvText.header(header);
            String[] names = header.strip().split(",");
            if (names.length < 2 || !names[0].strip().equalsIgnoreCase("timestamp")) {
                throw new IllegalArgumentException(file + ": header must be 'timestamp,value' or 'timestamp,<channel>,...', got '" + header + "'");
            }
            int channels = names.length - 1;
            long[] times = new long[1024];
            float[][] values = new float[1024][];
            int n = 0;
            String line;
            int lineNo = 1;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String[] parts = line.split(",", -1);
                if (parts.length != names.length) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": expected " + names.length + " fields, got " + parts.length);
                }
                if (n == times.length) {
                    times = Arrays.copyOf(times, n * 2);
                    values = Arrays.copyOf(values, n * 2);
                }
                try {
                    times[n] = Timestamps.parseMillis(parts[0]);
                    float[] row = new float[channels];
                    for (int c = 0; c < channels; c++) {
                        row[c] = Float.parseFloat(parts[c + 1]);
                        if (!Float.isFinite(row[c])) throw new IllegalArgumentException("value of " + names[c + 1] + " is not finite");
                    }
                    values[n] = row;
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": " + e.getMessage(), e);
                }
                if (n > 0 && times[n] < times[n - 1]) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": timestamps must not go back in time");
                }
                n++;
            }
            if (n == 0) {
                throw new IllegalArgumentException(file + ": no data rows after the header");
            }
            long[] t = Arrays.copyOf(times, n);
            List<LabelledStream.RowWindow> rows = LabelledStream.toRows(t, timeWindows);
            if (!timeWindows.isEmpty() && rows.isEmpty()) {
                // Every window misses the data: a wrong year or time zone would otherwise score as "no anomalies".
                throw new IllegalArgumentException(rel + ": none of its " + timeWindows.size() + " labelled windows covers "
                        + "a row; its rows run from " + Timestamps.format(t[0]) + " to " + Timestamps.format(t[n - 1]));
            }
            List<String> channelNames = Arrays.stream(names, 1, names.length).map(String::strip).toList();
            return new LabelledStream(rel, channelNames, t, Arrays.copyOf(values, n), rows);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw io.sidewinder.trainer.data.CsvText.notUtf8(file, e);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
