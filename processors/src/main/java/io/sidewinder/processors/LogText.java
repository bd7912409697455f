package io.sidewinder.processors;

import java.nio.charset.StandardCharsets;

/** Text from records made safe for a log line: control characters escaped (no forged lines), long ids cut. */
final class LogText {
    static final int MAX_CODE_POINTS = 100;

    private LogText() {}

    /** A record key (a sensor id) as it may stand in a log line; "" for none. */
    static String key(byte[] key) {
        if (key == null) return "";
        String k = new String(key, StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder();
        k.codePoints().limit(MAX_CODE_POINTS).forEach(c -> {
            if (unsafe(c)) b.append(String.format("\\u%04x", c)); else b.appendCodePoint(c);
        });
        return k.codePointCount(0, k.length()) > MAX_CODE_POINTS ? b.append('…').toString() : b.toString();
    }

    /** Control characters, line and paragraph separators and format characters (bidi overrides) and the quote. */
    private static boolean unsafe(int c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
                || type == Character.FORMAT || c == '\'';
    }
}
