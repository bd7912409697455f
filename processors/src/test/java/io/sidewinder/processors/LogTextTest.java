package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LogTextTest {
    @Test
    void aKeyInALogLineCannotForgeALineAndALongOneIsCut() {
        assertEquals("pump-01", LogText.key("pump-01".getBytes(StandardCharsets.UTF_8)));
        assertEquals("a\\u000aERROR fake line", LogText.key("a\nERROR fake line".getBytes(StandardCharsets.UTF_8)));
        assertEquals("x".repeat(100) + "…", LogText.key("x".repeat(150).getBytes(StandardCharsets.UTF_8)));
        assertEquals("", LogText.key(null));
        // A line separator, a right-to-left override and a quote that would close the line's quotes early.
        assertEquals("a\\u2028b\\u202ec\\u0027d", LogText.key("a\u2028b\u202ec'd".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aSourceNamesItsTopicPartitionOffsetAndKey() {
        var s = new SensorReadingProcessor.Source("readings", 2, 41, 0L, "pump-01".getBytes(StandardCharsets.UTF_8),
                new byte[0], null);
        assertEquals("readings-2@41 key 'pump-01'", s.toString());
    }
}
