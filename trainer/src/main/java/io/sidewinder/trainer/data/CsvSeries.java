package io.sidewinder.trainer.data;

import io.sidewinder.ssm.CausalNormalizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A multichannel time series read from CSV: one time column (ISO-like date-times such as
 * {@code 2016-07-01 00:00:00}, or epoch milliseconds) and numeric value columns. Rows must be in time order.
 * Rows the stream would dead-letter are left out, as the stream would: a row with a non-finite value (NaN, Infinity),
 * and a row whose time repeats the previous row's; {@link #skipped()} says how many and where.
 *
 * @param times event times, epoch ms (UTC)
 * @param values [rows][channels]
 * @param channels the value columns' names
 * @param skipped the rows left out, for the user ("" when none)
 */
public record CsvSeries(long[] times, float[][] values, List<String> channels, String skipped) {

    private static final DateTimeFormatter TIME = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd[ ]['T']HH:mm[:ss]")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
            .toFormatter();

    /** Cells read as a missing value, as NaN is: the row is left out and counted. */
    private static final java.util.Set<String> MISSING = java.util.Set.of("", "NA", "N/A", "null", "NULL", "nan");

    public int rows() {
        return times.length;
    }

    /**
     * Reads a CSV file. {@code timeColumn} names the time column (null: the first column);
     * {@code valueColumns} selects value columns by name (null or empty: every other column).
     * The separator (',' or ';') is detected from the header.
     */
    public static CsvSeries read(Path file, String timeColumn, List<String> valueColumns) throws IOException {
        return read(file, timeColumn, valueColumns, CausalNormalizer.MAX_ABS_READING);
    }

    /** As above; rows with a value beyond ±{@code maxAbs} are left out (the stream's sidewinder.max.abs.value). */
    public static CsvSeries read(Path file, String timeColumn, List<String> valueColumns, double maxAbs)
            throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, file, timeColumn, valueColumns, maxAbs);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw CsvText.notUtf8(file, e);
        }
    }

    private static CsvSeries read(BufferedReader in, Path file, String timeColumn, List<String> valueColumns,
                                  double maxAbs) throws IOException {
        String header = in.readLine();
        if (header == null) {
            throw new IOException(file + " is empty");
        }
        header = CsvText.header(header);
        String sep = header.contains(";") && !header.contains(",") ? ";" : ",";
        List<String> names = Arrays.stream(header.split(sep, -1)).map(String::trim).toList();
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).isEmpty()) {
                throw new IOException(file + ":1: column " + (i + 1) + " has no name");
            }
        }
        int timeIdx = timeColumn == null ? 0 : names.indexOf(timeColumn);
        if (timeIdx < 0) {
            throw new IOException(file + " has no column '" + timeColumn + "' (columns: " + names
                    + "); name the time column with --time-column");
        }
        List<String> chosen = new ArrayList<>();
        List<Integer> idx = new ArrayList<>();
        if (valueColumns == null || valueColumns.isEmpty()) {
            for (int i = 0; i < names.size(); i++) {
                if (i != timeIdx) {
                    chosen.add(names.get(i));
                    idx.add(i);
                }
            }
        } else {
            for (String c : valueColumns) {
                int i = names.indexOf(c);
                if (i < 0) {
                    throw new IOException(file + " has no column '" + c + "' (columns: " + names + ")");
                }
                chosen.add(c);
                idx.add(i);
            }
        }
        if (chosen.isEmpty()) {
            throw new IOException(file + " has no value columns besides its time column '" + names.get(timeIdx) + "'");
        }
        List<Long> times = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        String line;
        int lineNo = 1, nonFinite = 0, repeated = 0, firstNonFinite = 0, firstRepeated = 0;
        long epochScale = 0;   // 0 until the first epoch-number time decides it
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(sep, -1);
            if (f.length != names.size()) {   // a stray separator or quoting would shift the columns
                throw new IOException(file + ":" + lineNo + ": expected " + names.size() + " fields, got " + f.length);
            }
            String rawTime = f[timeIdx].trim();
            if (epochScale == 0 && isDigits(rawTime)) {
                epochScale = epochScale(rawTime);   // decided by the first row, kept for the whole file
            }
            long t = scaled(parseTime(rawTime, file, lineNo), rawTime, epochScale);
            if (!times.isEmpty() && t < times.getLast()) {
                throw new IOException(file + ":" + lineNo + ": time goes backwards (" + f[timeIdx].trim()
                        + " after " + java.time.Instant.ofEpochMilli(times.getLast()) + "); sort the file by time");
            }
            if (!times.isEmpty() && t == times.getLast()) {
                firstRepeated = repeated++ == 0 ? lineNo : firstRepeated;
                continue;
            }
            float[] v = new float[idx.size()];
            for (int j = 0; j < v.length; j++) {
                String cell = f[idx.get(j)].trim();
                if (MISSING.contains(cell)) {   // pandas writes a missing value as an empty cell: like NaN
                    v[j] = Float.NaN;
                    continue;
                }
                try {
                    v[j] = Float.parseFloat(cell);
                } catch (NumberFormatException e) {
                    throw new IOException(file + ":" + lineNo + ": column '" + chosen.get(j) + "' is not a number: '"
                            + f[idx.get(j)].trim() + "'");
                }
            }
            boolean finite = true;   // and a measurement: no sentinel the stream would dead-letter as OUT_OF_RANGE
            for (float x : v) finite &= Float.isFinite(x) && Math.abs(x) <= maxAbs;
            if (!finite) {
                firstNonFinite = nonFinite++ == 0 ? lineNo : firstNonFinite;
                continue;
            }
            times.add(t);
            rows.add(v);
        }
        long[] ts = times.stream().mapToLong(Long::longValue).toArray();
        List<String> skipped = new ArrayList<>();
        if (nonFinite > 0) {
            skipped.add(nonFinite + " with a missing, non-finite or out-of-range value (first: line " + firstNonFinite + ")");
        }
        if (repeated > 0) {
            skipped.add(repeated + " repeating the previous row's time (first: line " + firstRepeated + ")");
        }
        return new CsvSeries(ts, rows.toArray(float[][]::new), List.copyOf(chosen),
                skipped.isEmpty() ? "" : file.getFileName() + ": left out rows the stream would dead-letter: "
                        + String.join(", ", skipped));
    }

    private static boolean isDigits(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    /**
     * Epoch numbers are taken for milliseconds, unless their size says they are epoch seconds, microseconds or
     * nanoseconds of a date between 2001 and 2286 (10, 16 or 19 digits): a file of Unix seconds read as milliseconds
     * would give the model a gap reference 1000× too small. Other numbers (row counters, small times) stay ms.
     * Returns the factor to milliseconds as a signed code: +1000 multiply, -1000 / -1000000 divide, 1 as is.
     */
    static long epochScale(String digits) {
        return switch (digits.length()) {
            case 10 -> 1_000;            // seconds
            case 16 -> -1_000;           // microseconds
            case 19 -> -1_000_000;       // nanoseconds
            default -> 1;                // milliseconds (13 digits) and anything else
        };
    }

    private static long scaled(long t, String raw, long scale) {
        if (!isDigits(raw) || scale == 1 || scale == 0) return t;
        return scale > 0 ? t * scale : t / -scale;
    }

    static long parseTime(String s, Path file, int lineNo) throws IOException {
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(s);
        }
        try {
            return LocalDateTime.parse(s, TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (RuntimeException e) {
            try {
                // ISO-8601 with Z or an offset; pandas writes tz-aware times with a space: 2016-07-01 00:00:00+00:00
                return java.time.OffsetDateTime.parse(s.length() > 10 && s.charAt(10) == ' '
                        ? s.substring(0, 10) + 'T' + s.substring(11) : s).toInstant().toEpochMilli();
            } catch (RuntimeException notIso) {
                throw new IOException(file + ":" + lineNo + ": unreadable time '" + s + "' (accepted: yyyy-MM-dd HH:mm[:ss[.f]]"
                        + " in UTC, with a space or T, ISO-8601 with Z or an offset, or epoch milliseconds)");
            }
        }
    }
}
