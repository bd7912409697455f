package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class FailureLogTest {

    @Test
    void aFailureOnEveryRecordLogsItsStackOnceThenOneCountingLineAMinute() {
        Logger logger = (Logger) LoggerFactory.getLogger("failure-log-test");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        logger.addAppender(events);
        AtomicLong clock = new AtomicLong();
        FailureLog log = new FailureLog(logger, 60_000_000_000L, clock::get);
        for (int i = 0; i < 1_000; i++) {
            log.warn("record " + i, new IllegalStateException("model throws"));
            clock.addAndGet(50_000_000L);   // 1,000 failures over 50 s
        }
        assertEquals(1, events.list.size(), "the first, with its stack trace");
        assertNotNull(events.list.getFirst().getThrowableProxy());
        clock.addAndGet(10_000_000_000L);
        log.warn("record 1000", new IllegalStateException("model throws"));
        assertEquals(2, events.list.size());
        assertNull(events.list.get(1).getThrowableProxy());
        assertTrue(events.list.get(1).getFormattedMessage().contains("999 more like it"),
                events.list.get(1).getFormattedMessage());
        log.warn("record 1001", new IllegalArgumentException("another kind"));
        assertEquals(3, events.list.size(), "another kind of failure is logged at once");
    }
}
