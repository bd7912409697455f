package io.sidewinder.evaluation.anomaly;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Timestamps of labelled corpora: {@code 2014-04-10 07:15:00} with an optional fraction
 * ({@code .000000}) or a 'T' separator, read as UTC. The fixed layout is parsed by hand because the
 * evaluator must replay more than 100k rows per second and {@link LocalDateTime#parse} dominates otherwise.
 */
public final class Timestamps {
    private Timestamps() {}

    private static final DateTimeFormatter OUT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** Epoch milliseconds of a corpus timestamp; throws IllegalArgumentException naming the text. */
    public static long parseMillis(String s) {
        s = s.strip();
        if (s.length() >= 19 && s.charAt(4) == '-' && s.charAt(7) == '-' && (s.charAt(10) == ' ' || s.charAt(10) == 'T')
                && s.charAt(13) == ':' && s.charAt(16) == ':') {
            try {
                int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
                int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
                long millis = 0;
                if (s.length() > 19) {
                    if (s.charAt(19) != '.') throw new IllegalArgumentException(s);
                    int scale = 100;
                    for (int i = 20; i < s.length(); i++, scale /= 10) {
                        char c = s.charAt(i);
                        if (c < '0' || c > '9') throw new IllegalArgumentException(s);
                        millis += scale * (c - '0');
                    }
                }
                if (hour > 23 || minute > 59 || second > 60) throw new IllegalArgumentException(s);
                long days = LocalDate.of(year, month, day).toEpochDay();
                return ((days * 24 + hour) * 60 + minute) * 60_000L + second * 1000L + millis;
            } catch (RuntimeException e) {
                // fall through to the strict parser for its message
            }
        }
        try {
            return LocalDateTime.parse(s.replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a timestamp like 2014-04-10 07:15:00: '" + s + "'");
        }
    }

    /** The corpus form of an epoch-millisecond time (seconds resolution, as the corpora use). */
    public static String format(long epochMillis) {
        return OUT.format(LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000), 0, ZoneOffset.UTC));
    }

    /** The labels-file form, with six fractional digits. */
    public static String formatLabel(long epochMillis) {
        return format(epochMillis) + String.format(".%03d000", Math.floorMod(epochMillis, 1000));
    }

    private static int digits(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') throw new IllegalArgumentException(s);
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
