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
    }

    @Test
    void aSourceNamesItsTopicPartitionOffsetAndKey() {
        var s = new SensorReadingProcessor.Source("readings", 2, 41, 0L, "pump-01".getBytes(StandardCharsets.UTF_8),
                new byte[0], null);
        assertEquals("readings-2@41 key 'pump-01'", s.toString());
    }
}
